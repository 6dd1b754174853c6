#include "models/config.h"

#include "core/error.h"

namespace lumen::models {

void ModelConfig::validate() const {
  auto one_of = [](const std::string& field, const std::string& v, std::initializer_list<const char*> allowed) {
    std::string list;
    for (const char* a : allowed) {
      if (v == a) return;
      list += (list.empty() ? "" : ", ") + std::string(a);
    }
    throw InvalidArgument("model: " + field + " must be one of " + list + ", got '" + v + "'");
  };
  one_of("encoder", encoder, {"lstm", "cnn", "average", "transformer", "ortho-lstm", "diversity-lstm"});
  one_of("attention", attention, {"additive", "dot", "uniform"});
  one_of("pooling", pooling, {"attention", "cls"});
  one_of("lstm_impl", lstm_impl, {"fused", "plain"});
  auto positive = [](const std::string& field, int64_t v) {
    if (v <= 0) throw InvalidArgument("model: " + field + " must be > 0, got " + std::to_string(v));
  };
  positive("vocab_size", vocab_size);
  positive("embed_dim", embed_dim);
  positive("hidden", hidden);
  positive("cnn_filters", cnn_filters);
  positive("layers", layers);
  positive("heads", heads);
  positive("model_dim", model_dim);
  positive("ff_dim", ff_dim);
  if (num_classes < 2) throw InvalidArgument("model: num_classes must be >= 2, got " + std::to_string(num_classes));
  if (model_dim % heads != 0)
    throw InvalidArgument("model: model_dim must be divisible by heads, got " + std::to_string(model_dim) + " and " +
                          std::to_string(heads));
  if (cnn_kernels.empty()) throw InvalidArgument("model: cnn_kernels must not be empty");
  for (int64_t k : cnn_kernels)
    if (k <= 0 || k % 2 == 0) throw InvalidArgument("model: cnn kernel sizes must be odd and > 0, got " + std::to_string(k));
  if (pooling == "cls" && encoder != "transformer") throw InvalidArgument("model: pooling=cls needs the transformer encoder");
  if (pooling == "cls" && pair) throw InvalidArgument("model: pooling=cls is not available for text pairs");
}

EncoderKind ModelConfig::encoder_kind() const {
  if (encoder == "lstm" || encoder == "diversity-lstm") return EncoderKind::kLstm;
  if (encoder == "ortho-lstm") return EncoderKind::kOrthoLstm;
  if (encoder == "cnn") return EncoderKind::kCnn;
  if (encoder == "average") return EncoderKind::kAverage;
  if (encoder == "transformer") return EncoderKind::kTransformer;
  throw InvalidArgument("model: encoder must be one of lstm, cnn, average, transformer, ortho-lstm, diversity-lstm, got '" +
                        encoder + "'");
}

int64_t ModelConfig::output_dim() const {
  switch (encoder_kind()) {
    case EncoderKind::kLstm:
    case EncoderKind::kOrthoLstm: return 2 * hidden;
    case EncoderKind::kCnn: return cnn_filters * static_cast<int64_t>(cnn_kernels.size());
    case EncoderKind::kAverage: return hidden;
    case EncoderKind::kTransformer: return model_dim;
  }
  return model_dim;
}

Json ModelConfig::to_json() const {
  return {{"encoder", encoder},   {"attention", attention}, {"vocab_size", vocab_size}, {"embed_dim", embed_dim},
          {"hidden", hidden},     {"cnn_filters", cnn_filters}, {"cnn_kernels", cnn_kernels}, {"layers", layers},
          {"heads", heads},       {"model_dim", model_dim}, {"ff_dim", ff_dim},         {"pooling", pooling},
          {"lstm_impl", lstm_impl}, {"num_classes", num_classes}, {"pair", pair}};
}

ModelConfig ModelConfig::from_json(const Json& j) {
  ModelConfig c;
  try {
    c.encoder = j.value("encoder", c.encoder);
    c.attention = j.value("attention", c.attention);
    c.vocab_size = j.value("vocab_size", c.vocab_size);
    c.embed_dim = j.value("embed_dim", c.embed_dim);
    c.hidden = j.value("hidden", c.hidden);
    c.cnn_filters = j.value("cnn_filters", c.cnn_filters);
    c.cnn_kernels = j.value("cnn_kernels", c.cnn_kernels);
    c.layers = j.value("layers", c.layers);
    c.heads = j.value("heads", c.heads);
    c.model_dim = j.value("model_dim", c.model_dim);
    c.ff_dim = j.value("ff_dim", c.ff_dim);
    c.pooling = j.value("pooling", c.pooling);
    c.lstm_impl = j.value("lstm_impl", c.lstm_impl);
    c.num_classes = j.value("num_classes", c.num_classes);
    c.pair = j.value("pair", c.pair);
  } catch (const Json::exception& e) {
    throw ModelError(std::string("model: config has a field of the wrong type: ") + e.what());
  }
  c.validate();
  return c;
}

}  // namespace lumen::models
