// The pytorch_model.bin reader: the restricted pickle interpreter and the zip reader on
// hand-built inputs (including zip64 and hostile pickles), and on files that the real
// torch.save writes, compared with what torch.load reads from them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "loader_test_util.h"
#include "model/pickle_reader.h"
#include "model/weights.h"
#include "model/zip_reader.h"

namespace lantern::model {
namespace {

using testing::AsBytes;
using ::testing::HasSubstr;
using namespace std::string_view_literals;
using testing::ReadFile;
using testing::TempDir;
using testing::WriteFile;

// Writes pickle opcodes the way Python's pickler (protocol 2) does.
class Pickle {
 public:
  Pickle& Op(char op) {
    bytes_.push_back(op);
    return *this;
  }
  Pickle& Str(std::string_view s) {
    Op('X');
    Le(s.size(), 4);
    bytes_.append(s);
    return *this;
  }
  Pickle& Int(int v) {
    if (v < 256) return Op('K').Le(v, 1);
    return Op('J').Le(v, 4);
  }
  Pickle& Global(std::string_view module, std::string_view name) {
    Op('c');
    bytes_.append(module).append("\n").append(name).append("\n");
    return *this;
  }
  Pickle& Ints(const std::vector<int>& values) {
    Op('(');
    for (int v : values) Int(v);
    return Op('t');
  }
  // _rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict()) on the stack.
  Pickle& Tensor(const std::string& storage_type, const std::string& key, int numel, int offset,
                 const std::vector<int>& shape, const std::vector<int>& stride) {
    Global("torch._utils", "_rebuild_tensor_v2").Op('(');
    Op('(').Str("storage").Global("torch", storage_type).Str(key).Str("cpu").Int(numel).Op('t');
    Op('Q').Int(offset).Ints(shape).Ints(stride).Op('\x89');
    Global("collections", "OrderedDict").Op(')').Op('R');
    return Op('t').Op('R');
  }
  Pickle& Le(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) bytes_.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
    return *this;
  }
  Pickle& Raw(std::string_view raw) {
    bytes_.append(raw);
    return *this;
  }
  const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_ = "\x80\x02";
};

// A state dict pickle {"w": float32 tensor [2, 3] in storage "0" of 6 elements}.
std::string OneTensorPickle(const std::vector<int>& shape = {2, 3},
                            const std::vector<int>& stride = {3, 1}, int offset = 0) {
  return Pickle()
      .Global("collections", "OrderedDict")
      .Op(')')
      .Op('R')
      .Op('(')
      .Str("w")
      .Tensor("FloatStorage", "0", 6, offset, shape, stride)
      .Op('u')
      .Op('.')
      .bytes();
}

std::string PickleError(const std::string& pickle) {
  auto parsed = ParseStateDictPickle(AsBytes(pickle), "/m/pytorch_model.bin:archive/data.pkl");
  EXPECT_FALSE(parsed.ok());
  if (parsed.ok()) return "";
  EXPECT_THAT(parsed.status().message(), HasSubstr("/m/pytorch_model.bin:archive/data.pkl"));
  return parsed.status().message();
}

TEST(PickleReaderTest, ReadsATensorStateDict) {
  auto parsed = ParseStateDictPickle(AsBytes(OneTensorPickle()), "p");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->size(), 1u);
  const PickledTensor& t = parsed->front();
  EXPECT_EQ(t.name, "w");
  EXPECT_EQ(t.storage_type, "FloatStorage");
  EXPECT_EQ(t.storage_key, "0");
  EXPECT_EQ(t.storage_numel, 6u);
  EXPECT_EQ(t.storage_offset, 0);
  EXPECT_EQ(t.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(t.stride, (std::vector<int64_t>{3, 1}));
}

TEST(PickleReaderTest, UnwrapsParameters) {
  // torch >= 2 pickles a Parameter with Python state through _rebuild_parameter_with_state.
  const std::string pickle = Pickle()
                                 .Op('}')
                                 .Str("w")
                                 .Global("torch._utils", "_rebuild_parameter_with_state")
                                 .Op('(')
                                 .Tensor("HalfStorage", "3", 4, 0, {4}, {1})
                                 .Op('\x89')
                                 .Global("collections", "OrderedDict")
                                 .Op(')')
                                 .Op('R')
                                 .Op('}')
                                 .Op('t')
                                 .Op('R')
                                 .Op('s')
                                 .Op('.')
                                 .bytes();
  auto parsed = ParseStateDictPickle(AsBytes(pickle), "p");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->size(), 1u);
  EXPECT_EQ(parsed->front().storage_type, "HalfStorage");
  EXPECT_EQ(parsed->front().storage_key, "3");
  EXPECT_EQ(parsed->front().shape, std::vector<int64_t>{4});
}

TEST(PickleReaderTest, RefusesGlobalsOutsideTheAllowlist) {
  // What pickle.dumps of an object whose __reduce__ returns (os.system, ("...",)) holds.
  const std::string call_system =
      Pickle().Global("os", "system").Str("echo pwned").Op('\x85').Op('R').Op('.').bytes();
  EXPECT_THAT(PickleError(call_system),
              HasSubstr("refusing pickle GLOBAL 'os.system' (only torch tensor state dicts"));
  EXPECT_THAT(PickleError(Pickle().Global("builtins", "eval").Op('.').bytes()),
              HasSubstr("'builtins.eval'"));
  EXPECT_THAT(PickleError(Pickle().Global("torch", "load").Op('.').bytes()),
              HasSubstr("'torch.load'"));
  // STACK_GLOBAL (protocol 4) goes through the same allowlist.
  EXPECT_THAT(PickleError(Pickle().Str("subprocess").Str("run").Op('\x93').Op('.').bytes()),
              HasSubstr("'subprocess.run'"));
}

TEST(PickleReaderTest, RefusesOpcodesOutsideTheSubsetWithTheirOffset) {
  // INST ('i') would import and call; OBJ ('o'), NEWOBJ (0x81), EXT1 (0x82) likewise.
  EXPECT_THAT(PickleError(Pickle().Raw("ios\nsystem\n").bytes()),
              HasSubstr("unsupported pickle opcode 0x69 (only the opcodes of a plain tensor "
                        "state dict are interpreted) at offset 2"));
  EXPECT_THAT(PickleError(Pickle().Op(')').Op('\x81').bytes()),
              HasSubstr("unsupported pickle opcode 0x81"));
  EXPECT_THAT(PickleError(Pickle().Op('(').Op('o').bytes()),
              HasSubstr("unsupported pickle opcode 0x6f"));
  EXPECT_THAT(PickleError(Pickle().Op('\x82').Raw("\x01").bytes()),
              HasSubstr("unsupported pickle opcode 0x82"));
}

TEST(PickleReaderTest, ReduceCallsOnlyConstructorsOfTheFormat) {
  // A storage type is allowlisted as a name inside persistent ids, not as a callable.
  EXPECT_THAT(PickleError(Pickle().Global("torch", "FloatStorage").Op(')').Op('R').Op('.').bytes()),
              HasSubstr("REDUCE of 'FloatStorage', which is not callable here"));
  EXPECT_THAT(PickleError(Pickle().Str("x").Op(')').Op('R').Op('.').bytes()),
              HasSubstr("REDUCE of a str"));
}

TEST(PickleReaderTest, RejectsMalformedStreams) {
  EXPECT_THAT(PickleError(Pickle().Op('R').bytes()), HasSubstr("stack underflow"));
  EXPECT_THAT(PickleError(Pickle().Raw("h\x07").bytes()),
              HasSubstr("memo entry 7 was never stored"));
  EXPECT_THAT(PickleError(Pickle().Op('t').bytes()), HasSubstr("MARK that was never set"));
  EXPECT_THAT(PickleError(Pickle().Op('}').bytes()), HasSubstr("truncated"));
  EXPECT_THAT(PickleError(Pickle().Raw("X\xff\xff\xff\x7f").bytes()), HasSubstr("truncated"));
  EXPECT_THAT(PickleError(Pickle().Raw("\x8a\x09").bytes()), HasSubstr("wider than 64 bits"));
  EXPECT_THAT(PickleError(Pickle().Raw("X\x01\0\0\0\xff."sv).bytes()), HasSubstr("UTF-8"));
  EXPECT_THAT(PickleError(std::string("\x80\x09.")), HasSubstr("unsupported pickle protocol"));
  // A value pushed after a MARK cannot be popped past it.
  EXPECT_THAT(PickleError(Pickle().Op('K').Raw("\x01").Op('(').Op('\x85').bytes()),
              HasSubstr("stack underflow"));
}

TEST(PickleReaderTest, BoundsNestingAndRefusesCycles) {
  Pickle deep;
  deep.Op(')');
  for (int i = 0; i < 100; ++i) deep.Op('\x85');  // ((((),),),)...
  EXPECT_THAT(PickleError(deep.Op('.').bytes()), HasSubstr("nests deeper than 32"));
  // d = {}; t = (d,); d[0] = t would be a cycle: a nested dict may not change.
  EXPECT_THAT(PickleError(Pickle()
                              .Op('}')
                              .Raw("q\x00"sv)
                              .Op('\x85')
                              .Raw("h\x00"sv)
                              .Int(0)
                              .Raw("h\x00"sv)
                              .Op('s')
                              .Op('.')
                              .bytes()),
              HasSubstr("modifies a container after nesting it"));
  EXPECT_THAT(PickleError(Pickle().Op('}').Raw("q\x00"sv).Int(0).Raw("h\x00"sv).Op('s').bytes()),
              HasSubstr("cannot contain itself"));
}

TEST(PickleReaderTest, RequiresADictOfTensors) {
  EXPECT_THAT(PickleError(Pickle().Int(5).Op('.').bytes()),
              HasSubstr("the pickle holds a int, not a state dict"));
  EXPECT_THAT(PickleError(Pickle().Op('}').Str("step").Int(3).Op('s').Op('.').bytes()),
              HasSubstr("state dict entry 'step' is a int, not a tensor"));
  EXPECT_THAT(PickleError(Pickle().Op('}').Int(1).Int(3).Op('s').Op('.').bytes()),
              HasSubstr("state dict key is a int"));
  // A persistent id other than torch's storage tuple.
  EXPECT_THAT(PickleError(Pickle().Str("storage").Op('\x85').Op('Q').Op('.').bytes()),
              HasSubstr("persistent id is not ('storage'"));
}

TEST(PickleReaderTest, EveryTruncationIsAnErrorNotACrash) {
  const std::string pickle = OneTensorPickle();
  for (size_t len = 0; len < pickle.size(); ++len) {
    EXPECT_FALSE(ParseStateDictPickle(AsBytes(pickle.substr(0, len)), "p").ok()) << len;
  }
}

// A zip of stored entries, optionally with zip64 records (as torch writes for big files).
std::string Zip(const std::vector<std::pair<std::string, std::string>>& entries, bool zip64) {
  Pickle out, central;
  std::string bytes, dir;
  auto le = [](std::string& s, uint64_t v, int n) {
    for (int i = 0; i < n; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  };
  for (const auto& [name, data] : entries) {
    const uint64_t offset = bytes.size();
    const uint64_t size32 = zip64 ? 0xFFFFFFFF : data.size();
    le(bytes, 0x04034b50, 4);
    le(bytes, 45, 2);
    le(bytes, 0, 2);  // flags
    le(bytes, 0, 2);  // stored
    le(bytes, 0, 4);  // time, date
    le(bytes, 0, 4);  // crc (not checked by the reader)
    le(bytes, size32, 4);
    le(bytes, size32, 4);
    le(bytes, name.size(), 2);
    le(bytes, zip64 ? 20 : 0, 2);
    bytes += name;
    if (zip64) {
      le(bytes, 1, 2);
      le(bytes, 16, 2);
      le(bytes, data.size(), 8);
      le(bytes, data.size(), 8);
    }
    bytes += data;
    le(dir, 0x02014b50, 4);
    le(dir, 45, 2);
    le(dir, 45, 2);
    le(dir, 0, 2);
    le(dir, 0, 2);
    le(dir, 0, 4);
    le(dir, 0, 4);
    le(dir, size32, 4);
    le(dir, size32, 4);
    le(dir, name.size(), 2);
    le(dir, zip64 ? 28 : 0, 2);
    le(dir, 0, 2);  // comment
    le(dir, 0, 2);  // disk
    le(dir, 0, 6);  // attributes
    le(dir, zip64 ? 0xFFFFFFFF : offset, 4);
    dir += name;
    if (zip64) {
      le(dir, 1, 2);
      le(dir, 24, 2);
      le(dir, data.size(), 8);
      le(dir, data.size(), 8);
      le(dir, offset, 8);
    }
  }
  const uint64_t dir_offset = bytes.size();
  bytes += dir;
  if (zip64) {
    const uint64_t record = bytes.size();
    le(bytes, 0x06064b50, 4);
    le(bytes, 44, 8);
    le(bytes, 45, 2);
    le(bytes, 45, 2);
    le(bytes, 0, 8);  // disks
    le(bytes, entries.size(), 8);
    le(bytes, entries.size(), 8);
    le(bytes, dir.size(), 8);
    le(bytes, dir_offset, 8);
    le(bytes, 0x07064b50, 4);
    le(bytes, 0, 4);
    le(bytes, record, 8);
    le(bytes, 1, 4);
  }
  le(bytes, 0x06054b50, 4);
  le(bytes, 0, 4);
  le(bytes, zip64 ? 0xFFFF : entries.size(), 2);
  le(bytes, zip64 ? 0xFFFF : entries.size(), 2);
  le(bytes, zip64 ? 0xFFFFFFFF : dir.size(), 4);
  le(bytes, zip64 ? 0xFFFFFFFF : dir_offset, 4);
  le(bytes, 0, 2);
  return bytes;
}

std::string FloatBytes(const std::vector<float>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * 4);
}

class PytorchBinFileTest : public ::testing::Test {
 protected:
  Result<WeightStore> Open(const std::string& archive) {
    WriteFile(path(), archive);
    return WeightStore::OpenPytorchBin(path());
  }
  std::string OpenError(const std::string& archive) {
    auto store = Open(archive);
    EXPECT_FALSE(store.ok());
    if (store.ok()) return "";
    EXPECT_THAT(store.status().message(), HasSubstr(path().string()));
    return store.status().message();
  }
  std::filesystem::path path() const { return dir_.path() / "pytorch_model.bin"; }
  TempDir dir_;
};

TEST_F(PytorchBinFileTest, ReadsStoredAndZip64Archives) {
  const std::string data = FloatBytes({1, 2, 3, 4, 5, 6});
  for (bool zip64 : {false, true}) {
    auto store = Open(Zip(
        {{"model/data.pkl", OneTensorPickle()}, {"model/data/0", data}, {"model/version", "3\n"}},
        zip64));
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    const WeightView* w = store->Find("w");
    ASSERT_NE(w, nullptr);
    EXPECT_EQ(w->dtype, DType::kF32);
    EXPECT_EQ(w->shape, (std::vector<int64_t>{2, 3}));
    ASSERT_EQ(w->nbytes, 24u);
    EXPECT_EQ(std::memcmp(w->data, data.data(), 24), 0);
    EXPECT_EQ(store->format(), "pytorch");
  }
}

TEST_F(PytorchBinFileTest, ViewsStartAtTheStorageOffsetAndStayInside) {
  const std::string data = FloatBytes({1, 2, 3, 4, 5, 6});
  auto store =
      Open(Zip({{"a/data.pkl", OneTensorPickle({2, 2}, {2, 1}, 2)}, {"a/data/0", data}}, false));
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ(store->Find("w")->data, store->Find("w")->data);
  EXPECT_EQ(std::memcmp(store->Find("w")->data, data.data() + 8, 16), 0);
  EXPECT_THAT(OpenError(Zip(
                  {{"a/data.pkl", OneTensorPickle({2, 2}, {2, 1}, 3)}, {"a/data/0", data}}, false)),
              HasSubstr("tensor 'w': elements [3, +4) lie outside its storage of 6 elements"));
  EXPECT_THAT(
      OpenError(Zip({{"a/data.pkl", OneTensorPickle()}, {"a/data/0", data.substr(4)}}, false)),
      HasSubstr("storage '0' claims 6 elements but its entry holds 20 bytes"));
  EXPECT_THAT(OpenError(Zip({{"a/data.pkl", OneTensorPickle()}}, false)),
              HasSubstr("zip entry 'a/data/0' is missing"));
  EXPECT_THAT(
      OpenError(Zip({{"a/data.pkl", OneTensorPickle({3, 2}, {1, 3})}, {"a/data/0", data}}, false)),
      HasSubstr("tensor 'w' is not contiguous"));
}

TEST_F(PytorchBinFileTest, RejectsArchivesThatAreNotTorchCheckpoints) {
  EXPECT_THAT(OpenError("not a zip at all, just some text that is long enough"),
              HasSubstr("not a zip archive"));
  EXPECT_THAT(OpenError(""), HasSubstr("too short to be a zip archive"));
  EXPECT_THAT(OpenError(Zip({{"a/other.pkl", "x"}}, false)), HasSubstr("no <folder>/data.pkl"));
  EXPECT_THAT(OpenError(Zip({{"a/data.pkl", "x"}, {"b/data.pkl", "x"}}, false)),
              HasSubstr("more than one data.pkl"));
  EXPECT_THAT(OpenError(Zip({{"a/data.pkl", "x"}, {"a/data.pkl", "y"}}, false)),
              HasSubstr("zip entry 'a/data.pkl' appears twice"));
  EXPECT_THAT(OpenError(Zip({{"a/data.pkl", OneTensorPickle()}, {"a/byteorder", "big"}}, false)),
              HasSubstr("big-endian"));
}

TEST_F(PytorchBinFileTest, EveryTruncationAndByteFlipIsHandled) {
  const std::string archive =
      Zip({{"a/data.pkl", OneTensorPickle()}, {"a/data/0", FloatBytes({1, 2, 3, 4, 5, 6})}}, true);
  for (size_t len = 0; len < archive.size(); ++len) {
    EXPECT_FALSE(Open(archive.substr(0, len)).ok()) << len;
  }
  // A flipped byte may leave a loadable file (a data byte) but must never crash.
  for (size_t at = 0; at < archive.size(); ++at) {
    std::string corrupt = archive;
    corrupt[at] = static_cast<char>(corrupt[at] ^ 0xA5);
    (void)Open(corrupt);
  }
}

TEST(ZipReaderTest, ReportsCompressedEntries) {
  const std::string archive = Zip({{"a/x", "data"}}, false);
  std::string deflated = archive;
  deflated[8] = 8;                                      // local header: method 8
  deflated[archive.find("PK\x01\x02", 0, 4) + 10] = 8;  // central: method 8
  auto zip = ZipReader::Parse(AsBytes(deflated), "z.bin");
  ASSERT_TRUE(zip.ok()) << zip.status().ToString();
  auto data = zip->Data("a/x");
  ASSERT_FALSE(data.ok());
  EXPECT_THAT(data.status().message(),
              HasSubstr("z.bin: zip entry 'a/x' is compressed (method 8)"));
}

// Files written by the real torch.save (and zipfile), against torch.load's reading.
class TorchWrittenTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    ASSERT_TRUE(
        testing::RunFixtureScript("loader_cases.py", {"special", "--out", dir_->path().string()}));
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::string OpenError(const std::string& file) {
    const auto path = dir_->path() / file;
    auto store = WeightStore::OpenPytorchBin(path);
    EXPECT_FALSE(store.ok());
    if (store.ok()) return "";
    EXPECT_THAT(store.status().message(), HasSubstr(path.string()));
    return store.status().message();
  }
  static TempDir* dir_;
};
TempDir* TorchWrittenTest::dir_ = nullptr;

TEST_F(TorchWrittenTest, ViewsMatchTorchLoad) {
  auto store = WeightStore::OpenPytorchBin(dir_->path() / "views.bin");
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  const auto reference = nlohmann::json::parse(ReadFile(dir_->path() / "views/reference.json"));
  const std::string raw = ReadFile(dir_->path() / "views/reference.raw");
  ASSERT_EQ(store->size(), reference.size());
  for (const auto& entry : reference) {
    const std::string name = entry["name"];
    SCOPED_TRACE(name);
    const WeightView* view = store->Find(name);
    ASSERT_NE(view, nullptr);
    EXPECT_EQ(DTypeName(view->dtype), entry["dtype"].get<std::string>());
    EXPECT_EQ(view->shape, entry["shape"].get<std::vector<int64_t>>());
    ASSERT_EQ(view->nbytes, entry["nbytes"].get<size_t>());
    EXPECT_EQ(std::memcmp(view->data, raw.data() + entry["offset"].get<size_t>(), view->nbytes), 0);
  }
  // "slice" and "matrix" are views into the storage of "full": no copies.
  EXPECT_EQ(store->Find("slice")->data, store->Find("full")->data + 5 * 4);
  EXPECT_EQ(store->Find("matrix")->data, store->Find("full")->data + 20 * 4);
}

TEST_F(TorchWrittenTest, ReadsParameters) {
  auto store = WeightStore::OpenPytorchBin(dir_->path() / "parameter.bin");
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ASSERT_NE(store->Find("w"), nullptr);
  EXPECT_EQ(store->Find("w")->shape, (std::vector<int64_t>{2, 2}));
}

TEST_F(TorchWrittenTest, RefusesWhatItCannotReadNamingTheProblem) {
  EXPECT_THAT(OpenError("noncontiguous.bin"), HasSubstr("tensor 't' is not contiguous"));
  EXPECT_THAT(OpenError("int64.bin"),
              HasSubstr("tensor 'ids' has unsupported dtype torch.LongStorage"));
  EXPECT_THAT(OpenError("nested.bin"), HasSubstr("entry 'state_dict' is a dict, not a tensor"));
  EXPECT_THAT(OpenError("legacy.bin"), HasSubstr("legacy (pre-1.6) torch serialization"));
  EXPECT_THAT(OpenError("deflated.bin"), HasSubstr("is compressed (method 8)"));
  // pickle.dumps writes os.system as posix.system on Linux.
  EXPECT_THAT(OpenError("system.bin"), HasSubstr("refusing pickle GLOBAL 'posix.system'"));
}

}  // namespace
}  // namespace lantern::model
