// The word vectors of an attack's neighbour table and cosines.
#include <torch/torch.h>

#include <fstream>
#include <sstream>

#include "attack/attack.h"
#include "core/error.h"
#include "data/word_vectors.h"

namespace lumen::attack {

namespace {
// Word vectors for the vocabulary from a GloVe / word2vec file (dimension read from the file).
at::Tensor vectors_from_file(const std::string& path, const data::Vocab& vocab) {
  std::ifstream in(path);
  if (!in) throw IoError("attack: cannot read word vectors " + path);
  std::string line;
  std::getline(in, line);
  std::istringstream ls(line);
  std::vector<std::string> fields;
  for (std::string f; ls >> f;) fields.push_back(f);
  if (fields.size() < 2) throw DataError(path + ":1: not a word-vector file");
  const int64_t dim = fields.size() == 2 ? std::stoll(fields[1]) : static_cast<int64_t>(fields.size()) - 1;
  at::Tensor w = torch::zeros({vocab.size(), dim}, torch::kFloat);
  const auto report = data::load_word_vectors(path, vocab, w);
  if (report.covered == 0) throw DataError("attack: no word of the run's vocabulary has a vector in " + path);
  return w;
}

}  // namespace

at::Tensor attack_vectors(models::TextClassifier& model, const data::Vocab& vocab, const AttackOptions& options) {
  return options.vectors.empty() ? model->embedding->weight.detach().to(torch::kFloat).contiguous()
                                 : vectors_from_file(options.vectors, vocab);
}

}  // namespace lumen::attack
