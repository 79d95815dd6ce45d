#include "cli/warmup.h"

#include <cstdint>
#include <vector>

namespace lantern::cli {

Status WarmUp(model::Model& model) {
  std::unique_ptr<model::KvCache> kv = model.NewKvCache(/*num_blocks=*/1);
  if (!kv) return Internal("warm-up: the model did not create a KV cache");
  const std::vector<int32_t> token = {0};
  const std::vector<int32_t> block_table = {0};
  model::SequenceChunk chunk;
  chunk.tokens = token;
  chunk.start_position = 0;
  chunk.block_table = block_table;
  model::Batch batch;
  batch.sequences.push_back(chunk);
  std::vector<float> logits;
  return model.Forward(batch, *kv, &logits);
}

}  // namespace lantern::cli
