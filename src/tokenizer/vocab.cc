#include "tokenizer/vocab.h"

namespace lantern::tokenizer {

void Vocab::Add(std::string token, int32_t id) {
  if (id < 0) return;
  if (static_cast<size_t>(id) >= tokens_.size()) {
    tokens_.resize(id + 1);
    present_.resize(id + 1, false);
  }
  tokens_[id] = token;
  present_[id] = true;
  ids_[std::move(token)] = id;
}

}  // namespace lantern::tokenizer
