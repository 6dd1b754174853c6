#include "data/word_vectors.h"

#include <torch/torch.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "core/error.h"

namespace lumen::data {
namespace {

bool is_word2vec_binary(const std::string& path) {
  return path.size() > 4 && path.compare(path.size() - 4, 4, ".bin") == 0;
}

void set_row(at::Tensor& weight, int64_t row, const std::vector<float>& v) {
  std::memcpy(weight[row].data_ptr<float>(), v.data(), v.size() * sizeof(float));
}

}  // namespace

WordVectorReport load_word_vectors(const std::string& path, const Vocab& vocab, at::Tensor& weight) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("embeddings: cannot open " + path);
  const int64_t dim = weight.size(1);
  WordVectorReport rep;
  rep.dim = dim;
  rep.vocab = vocab.size() - 4;
  std::vector<char> seen(vocab.size(), 0);
  auto take = [&](const std::string& word, const std::vector<float>& v) {
    const int64_t id = vocab.id(word);
    if (id < 4 || seen[id]) return;
    seen[id] = 1;
    set_row(weight, id, v);
    ++rep.covered;
  };
  torch::NoGradGuard no_grad;
  if (is_word2vec_binary(path)) {
    int64_t count = 0, file_dim = 0;
    in >> count >> file_dim;
    if (!in || count <= 0 || file_dim <= 0) throw DataError("embeddings: " + path + ":1: word2vec header must be 'COUNT DIM'");
    if (file_dim != dim)
      throw InvalidArgument("embeddings: " + path + " has dimension " + std::to_string(file_dim) + ", the model's embedding has " +
                            std::to_string(dim) + " (set --embed-dim)");
    std::vector<float> v(dim);
    for (int64_t i = 0; i < count; ++i) {
      std::string word;
      in >> word;
      in.get();  // the single space after the word
      in.read(reinterpret_cast<char*>(v.data()), dim * sizeof(float));
      if (!in) throw DataError("embeddings: " + path + ": truncated at vector " + std::to_string(i + 1));
      take(word, v);
    }
    return rep;
  }
  std::string line;
  int64_t n = 0;
  std::vector<float> v;
  while (std::getline(in, line)) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::istringstream ls(line);
    std::string word;
    ls >> word;
    v.clear();
    float x;
    while (ls >> x) v.push_back(x);
    if (n == 1 && v.size() == 1) continue;  // fastText "COUNT DIM" header
    if (static_cast<int64_t>(v.size()) != dim) {
      if (n == 1)
        throw InvalidArgument("embeddings: " + path + " has dimension " + std::to_string(v.size()) +
                              ", the model's embedding has " + std::to_string(dim) + " (set --embed-dim)");
      throw DataError("embeddings: " + path + ":" + std::to_string(n) + ": expected " + std::to_string(dim) +
                      " numbers after the word, got " + std::to_string(v.size()));
    }
    take(word, v);
  }
  return rep;
}

}  // namespace lumen::data
