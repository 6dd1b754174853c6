// Training Lumen's editor (models/masked_lm.h) on a task's own texts: BERT's masking with a
// masked share drawn per text from [min_mask, max_mask] (MiCE trains its editor on 20-55%), the
// gold label as the conditioning token (dropped for 10% of texts, so the editor also fills
// without a label), long texts cut to a random window of max_length - 2 tokens. Loss: cross
// entropy at the masked positions. Reports the dev masked-token loss and accuracy per epoch.
#pragma once
#include <functional>
#include <vector>

#include "core/json.h"
#include "data/example.h"
#include "data/vocab.h"
#include "models/masked_lm.h"

namespace lumen::train {

struct EditorTrainOptions {
  int64_t epochs = 4;
  int64_t batch_size = 32;
  double lr = 1e-3;
  double min_mask = 0.15, max_mask = 0.5;
  // Condition on the gold label (MiCE's editor); false trains an unconditioned MLM.
  bool label_conditioned = true;
  uint64_t seed = 0;
  bool progress = true;
  void validate() const;
  Json to_json() const;
};

// Trains `model` in place on the examples' first texts; returns the per-epoch report.
Json train_editor(models::MaskedLm& model, const std::vector<data::Example>& train, const std::vector<data::Example>& dev,
                  const data::Vocab& vocab, const EditorTrainOptions& options);

}  // namespace lumen::train
