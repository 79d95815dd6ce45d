// A restricted pickle interpreter. torch.save pickles a state dict with protocol 2 as:
//   GLOBAL collections.OrderedDict; EMPTY_TUPLE; REDUCE       -> the dict
//   MARK; name; GLOBAL torch._utils._rebuild_tensor_v2;
//     (BINPERSID ('storage', torch.FloatStorage, key, 'cpu', numel), offset, size, stride,
//      requires_grad, OrderedDict()) REDUCE ... SETITEMS      -> entries
//   {'_metadata': ...} BUILD; STOP
// We evaluate exactly those constructs into plain values. Limits on the stack, the memo,
// the number of objects and their nesting keep memory bounded; containers may not be
// mutated once nested in another, so no cycles (and no deep destructor recursion) exist.
#include "model/pickle_reader.h"

#include <memory>
#include <set>
#include <unordered_map>

#include "model/loader_util.h"

namespace lantern::model {
namespace {

using internal::Quote;

constexpr size_t kMaxStack = 1 << 20;
constexpr size_t kMaxMemo = 1 << 22;
constexpr size_t kMaxObjects = 1 << 23;
constexpr int kMaxDepth = 32;
constexpr size_t kMaxRank = 64;

enum class Kind : uint8_t {
  kNone,
  kBool,
  kInt,
  kString,
  kTuple,
  kList,
  kDict,
  kGlobal,
  kStorage,
  kTensor
};
enum class Callable : uint8_t {
  kNone,
  kOrderedDict,
  kRebuildTensorV2,
  kRebuildTensor,
  kRebuildParameter,
  kStorageType,
};

const char* const kStorageTypes[] = {
    "FloatStorage", "HalfStorage", "BFloat16Storage",     "DoubleStorage",
    "LongStorage",  "IntStorage",  "ShortStorage",        "CharStorage",
    "ByteStorage",  "BoolStorage", "ComplexFloatStorage", "ComplexDoubleStorage",
};

struct Object {
  Kind kind = Kind::kNone;
  Callable callable = Callable::kNone;  // kGlobal
  bool contained = false;               // nested in another container: now immutable
  int depth = 1;
  int64_t number = 0;                          // kBool, kInt; kStorage: numel
  std::string text;                            // kString; kGlobal/kStorage: storage type name
  std::string key;                             // kStorage: the storage's key
  std::vector<std::shared_ptr<Object>> items;  // kTuple, kList; kDict: key, value, ...
  std::unique_ptr<PickledTensor> tensor;       // kTensor
};
using Ref = std::shared_ptr<Object>;

const char* KindName(Kind kind) {
  switch (kind) {
    case Kind::kNone:
      return "None";
    case Kind::kBool:
      return "bool";
    case Kind::kInt:
      return "int";
    case Kind::kString:
      return "str";
    case Kind::kTuple:
      return "tuple";
    case Kind::kList:
      return "list";
    case Kind::kDict:
      return "dict";
    case Kind::kGlobal:
      return "global";
    case Kind::kStorage:
      return "storage";
    case Kind::kTensor:
      return "tensor";
  }
  return "?";
}

struct PickleError {
  std::string message;
};

class Interpreter {
 public:
  Interpreter(std::span<const std::byte> data, const std::string& source)
      : data_(data), source_(source) {}

  Ref Run() {
    while (true) {
      op_offset_ = pos_;
      const uint8_t op = U8();
      if (op == '.') {  // STOP
        Ref result = Pop();
        return result;
      }
      Step(op);
    }
  }

  [[noreturn]] void Fail(const std::string& what) const {
    throw PickleError{source_ + ": " + what + " at offset " + std::to_string(op_offset_)};
  }

 private:
  void Step(uint8_t op) {
    switch (op) {
      case 0x80:  // PROTO
        if (U8() > 5) Fail("unsupported pickle protocol");
        break;
      case 0x95:  // FRAME: framing only groups opcodes; its length is advisory.
        Take(8);
        break;
      case '}':
        Push(New(Kind::kDict));
        break;  // EMPTY_DICT
      case ']':
        Push(New(Kind::kList));
        break;  // EMPTY_LIST
      case ')':
        Push(New(Kind::kTuple));
        break;   // EMPTY_TUPLE
      case '(':  // MARK
        if (marks_.size() >= kMaxStack) Fail("too many pickle marks");
        marks_.push_back(stack_.size());
        break;
      case 'X':
        PushString(Le<uint32_t>());
        break;  // BINUNICODE
      case 0x8c:
        PushString(U8());
        break;  // SHORT_BINUNICODE
      case 0x8d:
        PushString(Le<uint64_t>());
        break;  // BINUNICODE8
      case 'q':
        Memoize(U8());
        break;  // BINPUT
      case 'r':
        Memoize(Le<uint32_t>());
        break;  // LONG_BINPUT
      case 0x94:
        Memoize(memo_.size());
        break;  // MEMOIZE
      case 'h':
        Recall(U8());
        break;  // BINGET
      case 'j':
        Recall(Le<uint32_t>());
        break;     // LONG_BINGET
      case 'c': {  // GLOBAL
        std::string module = Line();
        std::string name = Line();
        Push(Global(module, name));
        break;
      }
      case 0x93: {  // STACK_GLOBAL
        Ref name = Pop(), module = Pop();
        if (name->kind != Kind::kString || module->kind != Kind::kString) {
          Fail("STACK_GLOBAL needs two strings");
        }
        Push(Global(module->text, name->text));
        break;
      }
      case 'Q':
        Push(Storage(Pop()));
        break;  // BINPERSID
      case 't':
        Push(Container(Kind::kTuple, PopToMark()));
        break;
      case 0x85:
        Push(Container(Kind::kTuple, PopN(1)));
        break;
      case 0x86:
        Push(Container(Kind::kTuple, PopN(2)));
        break;
      case 0x87:
        Push(Container(Kind::kTuple, PopN(3)));
        break;
      case 'J':
        PushInt(static_cast<int32_t>(Le<uint32_t>()));
        break;  // BININT
      case 'K':
        PushInt(U8());
        break;  // BININT1
      case 'M':
        PushInt(Le<uint16_t>());
        break;  // BININT2
      case 0x8a:
        PushInt(Long1());
        break;  // LONG1
      case 0x88:
        PushBool(true);
        break;  // NEWTRUE
      case 0x89:
        PushBool(false);
        break;  // NEWFALSE
      case 'N':
        Push(New(Kind::kNone));
        break;     // NONE
      case 'R': {  // REDUCE
        Ref args = Pop(), callable = Pop();
        Push(Reduce(*callable, *args));
        break;
      }
      case 's': {  // SETITEM
        Ref value = Pop(), key = Pop();
        AddItems(Kind::kDict, {key, value});
        break;
      }
      case 'u': {  // SETITEMS
        std::vector<Ref> items = PopToMark();
        if (items.size() % 2 != 0) Fail("SETITEMS with an odd number of items");
        AddItems(Kind::kDict, items);
        break;
      }
      case 'a':
        AddItems(Kind::kList, {Pop()});
        break;  // APPEND
      case 'e':
        AddItems(Kind::kList, PopToMark());
        break;     // APPENDS
      case 'b': {  // BUILD: OrderedDict attributes (state_dict's _metadata) are ignored.
        Ref state = Pop();
        if (Top()->kind != Kind::kDict) {
          Fail(std::string("BUILD on a ") + KindName(Top()->kind) + " (only dicts are supported)");
        }
        break;
      }
      default: {
        static const char kHex[] = "0123456789abcdef";
        Fail(std::string("unsupported pickle opcode 0x") + kHex[op >> 4] + kHex[op & 15] +
             " (only the opcodes of a plain tensor state dict are interpreted)");
      }
    }
  }

  // --- reading the opcode stream
  const std::byte* Take(uint64_t n) {
    if (n > data_.size() - pos_) Fail("pickle truncated");
    const std::byte* p = data_.data() + pos_;
    pos_ += n;
    return p;
  }
  uint8_t U8() { return static_cast<uint8_t>(*Take(1)); }
  template <typename T>
  T Le() {
    return internal::ReadLe<T>(Take(sizeof(T)));
  }
  std::string Line() {
    std::string line;
    while (true) {
      char c = static_cast<char>(U8());
      if (c == '\n') return line;
      if (line.size() >= 256) Fail("GLOBAL name too long");
      line += c;
    }
  }
  int64_t Long1() {
    const uint8_t n = U8();
    if (n > 8) Fail("LONG1 integer wider than 64 bits");
    const std::byte* p = Take(n);
    uint64_t value = 0;
    for (uint8_t i = 0; i < n; ++i) value |= static_cast<uint64_t>(p[i]) << (8 * i);
    if (n > 0 && n < 8 && (static_cast<uint8_t>(p[n - 1]) & 0x80)) value |= ~0ULL << (8 * n);
    return static_cast<int64_t>(value);
  }

  // --- objects and the stack
  Ref New(Kind kind) {
    if (++objects_ > kMaxObjects) Fail("pickle creates too many objects");
    auto obj = std::make_shared<Object>();
    obj->kind = kind;
    return obj;
  }
  void Push(Ref obj) {
    if (stack_.size() >= kMaxStack) Fail("pickle stack too deep");
    stack_.push_back(std::move(obj));
  }
  Ref Pop() {
    if (stack_.size() <= (marks_.empty() ? 0 : marks_.back())) Fail("pickle stack underflow");
    Ref obj = std::move(stack_.back());
    stack_.pop_back();
    return obj;
  }
  const Ref& Top() {
    if (stack_.size() <= (marks_.empty() ? 0 : marks_.back())) Fail("pickle stack underflow");
    return stack_.back();
  }
  std::vector<Ref> PopN(size_t n) {
    std::vector<Ref> items(n);
    for (size_t i = n; i-- > 0;) items[i] = Pop();
    return items;
  }
  std::vector<Ref> PopToMark() {
    if (marks_.empty()) Fail("pickle pops to a MARK that was never set");
    const size_t mark = marks_.back();
    marks_.pop_back();
    std::vector<Ref> items(std::make_move_iterator(stack_.begin() + mark),
                           std::make_move_iterator(stack_.end()));
    stack_.resize(mark);
    return items;
  }
  void PushString(uint64_t len) {
    const std::byte* p = Take(len);
    Ref obj = New(Kind::kString);
    obj->text.assign(reinterpret_cast<const char*>(p), len);
    if (!internal::IsValidUtf8(obj->text)) Fail("string is not valid UTF-8");
    Push(std::move(obj));
  }
  void PushInt(int64_t value) {
    Ref obj = New(Kind::kInt);
    obj->number = value;
    Push(std::move(obj));
  }
  void PushBool(bool value) {
    Ref obj = New(Kind::kBool);
    obj->number = value;
    Push(std::move(obj));
  }
  void Memoize(uint64_t index) {
    if (memo_.size() >= kMaxMemo && !memo_.count(index)) Fail("pickle memo too large");
    memo_[index] = Top();
  }
  void Recall(uint64_t index) {
    auto it = memo_.find(index);
    if (it == memo_.end()) Fail("memo entry " + std::to_string(index) + " was never stored");
    Push(it->second);
  }

  void Adopt(Object& parent, const Ref& child) {
    if (child.get() == &parent) Fail("a container cannot contain itself");
    child->contained = true;
    parent.depth = std::max(parent.depth, child->depth + 1);
    if (parent.depth > kMaxDepth) Fail("pickle nests deeper than " + std::to_string(kMaxDepth));
    parent.items.push_back(child);
  }
  Ref Container(Kind kind, std::vector<Ref> items) {
    Ref obj = New(kind);
    obj->items.reserve(items.size());
    for (const Ref& item : items) Adopt(*obj, item);
    return obj;
  }
  void AddItems(Kind kind, const std::vector<Ref>& items) {
    const Ref& target = Top();
    if (target->kind != kind) {
      Fail(std::string(kind == Kind::kDict ? "SETITEM" : "APPEND") + " on a " +
           KindName(target->kind));
    }
    if (target->contained) Fail("pickle modifies a container after nesting it (unsupported)");
    for (const Ref& item : items) Adopt(*target, item);
  }

  // --- the allowlisted globals and what they build
  Ref Global(const std::string& module, const std::string& name) {
    Callable callable = Callable::kNone;
    if (module == "collections" && name == "OrderedDict") {
      callable = Callable::kOrderedDict;
    } else if (module == "torch._utils" && name == "_rebuild_tensor_v2") {
      callable = Callable::kRebuildTensorV2;
    } else if (module == "torch._utils" && name == "_rebuild_tensor") {
      callable = Callable::kRebuildTensor;
    } else if (module == "torch._utils" &&
               (name == "_rebuild_parameter" || name == "_rebuild_parameter_with_state")) {
      callable = Callable::kRebuildParameter;
    } else if (module == "torch") {
      for (const char* type : kStorageTypes) {
        if (name == type) callable = Callable::kStorageType;
      }
    }
    if (callable == Callable::kNone) {
      Fail("refusing pickle GLOBAL " + Quote(module + "." + name) +
           " (only torch tensor state dicts are loaded; nothing in a pickle is executed)");
    }
    Ref obj = New(Kind::kGlobal);
    obj->callable = callable;
    obj->text = name;
    return obj;
  }

  // BINPERSID of torch's zip format: ('storage', StorageType, key, location, numel).
  Ref Storage(const Ref& pid) {
    const auto& t = pid->items;
    if (pid->kind != Kind::kTuple || t.size() != 5 || t[0]->kind != Kind::kString ||
        t[0]->text != "storage" || t[1]->kind != Kind::kGlobal ||
        t[1]->callable != Callable::kStorageType || t[2]->kind != Kind::kString ||
        t[3]->kind != Kind::kString || t[4]->kind != Kind::kInt || t[4]->number < 0) {
      Fail("persistent id is not ('storage', torch.<Type>Storage, key, location, numel)");
    }
    Ref obj = New(Kind::kStorage);
    obj->text = t[1]->text;
    obj->key = t[2]->text;
    obj->number = t[4]->number;
    return obj;
  }

  std::vector<int64_t> Dims(const Object& tuple, const char* what) {
    if (tuple.kind != Kind::kTuple) Fail(std::string("tensor ") + what + " is not a tuple");
    if (tuple.items.size() > kMaxRank) Fail(std::string("tensor ") + what + " has too many dims");
    std::vector<int64_t> dims;
    for (const Ref& d : tuple.items) {
      if (d->kind != Kind::kInt || d->number < 0) {
        Fail(std::string("tensor ") + what + " holds a non-integer or negative value");
      }
      dims.push_back(d->number);
    }
    return dims;
  }

  Ref Reduce(const Object& callable, const Object& args) {
    if (callable.kind != Kind::kGlobal || args.kind != Kind::kTuple) {
      Fail(std::string("REDUCE of a ") + KindName(callable.kind) + " (only allowlisted globals)");
    }
    const auto& a = args.items;
    switch (callable.callable) {
      case Callable::kOrderedDict:
        if (!a.empty()) Fail("OrderedDict called with arguments");
        return New(Kind::kDict);
      case Callable::kRebuildTensorV2:
      case Callable::kRebuildTensor: {
        const size_t min_args = callable.callable == Callable::kRebuildTensor ? 4 : 6;
        if (a.size() < min_args || a.size() > min_args + 1)
          Fail("tensor rebuilt with wrong arguments");
        if (a[0]->kind != Kind::kStorage) Fail("tensor storage is not a persistent storage");
        if (a[1]->kind != Kind::kInt || a[1]->number < 0) Fail("tensor storage offset is invalid");
        Ref obj = New(Kind::kTensor);
        obj->tensor = std::make_unique<PickledTensor>();
        PickledTensor& t = *obj->tensor;
        t.storage_type = a[0]->text;
        t.storage_key = a[0]->key;
        t.storage_numel = static_cast<uint64_t>(a[0]->number);
        t.storage_offset = a[1]->number;
        t.shape = Dims(*a[2], "size");
        t.stride = Dims(*a[3], "stride");
        if (t.shape.size() != t.stride.size()) Fail("tensor size and stride differ in rank");
        return obj;
      }
      case Callable::kRebuildParameter:
        // (data, requires_grad, backward_hooks), plus the Python state of the "_with_state"
        // variant; both give back the tensor.
        if (a.size() < 3 || a.size() > 4 || a[0]->kind != Kind::kTensor)
          Fail("parameter rebuilt without a tensor");
        return a[0];
      case Callable::kStorageType:
      case Callable::kNone:
        break;
    }
    Fail("REDUCE of " + Quote(callable.text) + ", which is not callable here");
  }

  std::span<const std::byte> data_;
  const std::string& source_;
  uint64_t pos_ = 0;
  uint64_t op_offset_ = 0;
  size_t objects_ = 0;
  std::vector<Ref> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, Ref> memo_;
};

}  // namespace

Result<std::vector<PickledTensor>> ParseStateDictPickle(std::span<const std::byte> pickle,
                                                        const std::string& source) {
  try {
    Interpreter interpreter(pickle, source);
    Ref root = interpreter.Run();
    if (root->kind != Kind::kDict) {
      return DataLoss(source + ": the pickle holds a " + KindName(root->kind) +
                      ", not a state dict");
    }
    std::vector<PickledTensor> tensors;
    std::set<std::string> seen;
    for (size_t i = 0; i + 1 < root->items.size(); i += 2) {
      const Object& key = *root->items[i];
      Object& value = *root->items[i + 1];
      if (key.kind != Kind::kString) {
        return DataLoss(source + ": state dict key is a " + KindName(key.kind) + ", not a str");
      }
      if (value.kind != Kind::kTensor) {
        return DataLoss(source + ": state dict entry " + Quote(key.text) + " is a " +
                        KindName(value.kind) + ", not a tensor");
      }
      if (!seen.insert(key.text).second) {
        return DataLoss(source + ": state dict key " + Quote(key.text) + " appears twice");
      }
      PickledTensor tensor = *value.tensor;  // copied: tied weights share one object
      tensor.name = key.text;
      tensors.push_back(std::move(tensor));
    }
    return tensors;
  } catch (const PickleError& e) {
    return DataLoss(e.message);
  }
}

}  // namespace lantern::model
