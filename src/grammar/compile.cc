// The compilers behind grammar.h, with a bounded LRU cache of compiled grammars keyed by
// what was compiled and for which vocabulary.
#include <functional>
#include <list>
#include <mutex>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "grammar/compiled_grammar.h"
#include "grammar/translate.h"

namespace lantern::grammar {
namespace {

class GrammarCache {
 public:
  static constexpr size_t kCapacity = 32;

  GrammarHandle Find(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = index_.find(key);
    if (it == index_.end()) return nullptr;
    order_.splice(order_.begin(), order_, it->second);
    return it->second->second;
  }

  void Insert(const std::string& key, GrammarHandle grammar) {
    std::lock_guard<std::mutex> lock(mu_);
    if (index_.count(key)) return;
    order_.emplace_front(key, std::move(grammar));
    index_[key] = order_.begin();
    if (order_.size() > kCapacity) {
      index_.erase(order_.back().first);
      order_.pop_back();
    }
  }

 private:
  std::mutex mu_;
  std::list<std::pair<std::string, GrammarHandle>> order_;
  std::unordered_map<std::string, std::list<std::pair<std::string, GrammarHandle>>::iterator>
      index_;
};

GrammarCache& Cache() {
  static GrammarCache* cache = new GrammarCache();  // never destroyed: used until exit
  return *cache;
}

Result<GrammarHandle> CompileCached(GrammarKind kind, std::string_view source,
                                    const std::shared_ptr<const Vocabulary>& vocab,
                                    const std::function<Result<std::string>()>& to_gbnf) {
  if (!vocab) return InvalidArgument("no vocabulary to compile the grammar for");
  std::string key = std::string(GrammarKindName(kind)) + '\0' +
                    std::to_string(reinterpret_cast<uintptr_t>(vocab.get())) + '\0' +
                    std::string(source);
  if (GrammarHandle hit = Cache().Find(key)) return hit;
  LANTERN_ASSIGN_OR_RETURN(std::string gbnf, to_gbnf());
  LANTERN_ASSIGN_OR_RETURN(GrammarIr ir, ParseGbnf(gbnf));
  auto grammar = std::make_shared<const CompiledGrammar>(kind, std::move(ir), vocab);
  Cache().Insert(key, grammar);
  return GrammarHandle(grammar);
}

}  // namespace

Result<GrammarHandle> CompileJsonSchema(const nlohmann::ordered_json& schema,
                                        std::shared_ptr<const Vocabulary> vocab) {
  const std::string source = schema.dump();
  return CompileCached(GrammarKind::kJsonSchema, source, vocab,
                       [&]() { return JsonSchemaToGbnf(schema); });
}

Result<GrammarHandle> CompileJsonSchema(const nlohmann::json& schema,
                                        std::shared_ptr<const Vocabulary> vocab) {
  return CompileJsonSchema(nlohmann::ordered_json::parse(schema.dump()), std::move(vocab));
}

Result<GrammarHandle> CompileJsonObject(std::shared_ptr<const Vocabulary> vocab) {
  return CompileCached(GrammarKind::kJsonObject, "", vocab, []() -> Result<std::string> {
    return JsonSchemaToGbnf(nlohmann::json{{"type", "object"}, {"additionalProperties", true}});
  });
}

Result<GrammarHandle> CompileRegex(std::string_view pattern,
                                   std::shared_ptr<const Vocabulary> vocab) {
  return CompileCached(GrammarKind::kRegex, pattern, vocab, [&]() -> Result<std::string> {
    LANTERN_ASSIGN_OR_RETURN(std::string expr, RegexToGbnf(pattern));
    return "root ::= " + expr + "\n";
  });
}

Result<GrammarHandle> CompileChoice(const std::vector<std::string>& choices,
                                    std::shared_ptr<const Vocabulary> vocab) {
  if (choices.empty()) return InvalidArgument("the choice list is empty");
  std::string source;
  for (const auto& c : choices) {
    if (c.empty()) return InvalidArgument("a choice is the empty string");
    source += std::to_string(c.size()) + ':' + c;
  }
  return CompileCached(GrammarKind::kChoice, source, vocab, [&]() -> Result<std::string> {
    std::string gbnf = "root ::= ";
    for (size_t i = 0; i < choices.size(); ++i) {
      if (i) gbnf += " | ";
      gbnf += GbnfLiteral(choices[i]);
    }
    return gbnf + "\n";
  });
}

Result<GrammarHandle> CompileGbnf(std::string_view gbnf, std::shared_ptr<const Vocabulary> vocab) {
  return CompileCached(GrammarKind::kGrammar, gbnf, vocab,
                       [&]() -> Result<std::string> { return std::string(gbnf); });
}

}  // namespace lantern::grammar
