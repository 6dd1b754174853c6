#include "cli/explain_options.h"

namespace lumen::cli {

void MethodFlags::finish() {
  options.path.baseline = explain::parse_baseline(baseline);
  options.removal = explain::parse_removal(removal);
  options.fast = !plain;
  options.validate();
}

void add_method_flags(CLI::App* cmd, MethodFlags& f, const std::string& default_methods) {
  std::string names;
  for (const auto& n : explain::explainer_names()) names += (names.empty() ? "" : ",") + n;
  f.methods = default_methods;
  cmd->add_option("--methods", f.methods, "Comma-separated methods, or all: " + names)->capture_default_str();
  auto& o = f.options;
  cmd->add_option("--steps", o.path.steps, "Integrated gradients / AttAttr: steps of the path integral")->capture_default_str();
  cmd->add_option("--ig-tolerance", o.path.tolerance,
                  "Integrated gradients, adaptive: per instance, double the steps (trapezoid rule from 4) until the "
                  "completeness gap is <= this (0 = the fixed --steps)")
      ->capture_default_str();
  cmd->add_option("--ig-max-steps", o.path.max_steps, "Integrated gradients, adaptive: most steps per instance")
      ->capture_default_str();
  cmd->add_option("--baseline", f.baseline, "Integrated gradients baseline embedding: pad | zero | unk")->capture_default_str();
  cmd->add_option("--chunk", o.chunk, "Copies per forward/backward pass: ig/att_attr path points, smoothgrad samples (0 = by --max-tokens)")->capture_default_str();
  cmd->add_option("--max-tokens", o.max_tokens, "Padded positions per forward pass of batched methods")->capture_default_str();
  cmd->add_option("--removal", f.removal, "Token removal of loo/occlusion/lime/kernel_shap: delete | pad | unk")
      ->capture_default_str();
  cmd->add_option("--ngram", o.occlusion.ngram, "Occlusion window size")->capture_default_str();
  cmd->add_option("--samples", o.surrogate.samples, "LIME / Kernel SHAP samples per instance")->capture_default_str();
  cmd->add_option("--kernel-width", o.surrogate.kernel_width, "LIME kernel width on the cosine distance")->capture_default_str();
  cmd->add_option("--ridge", o.surrogate.ridge, "LIME ridge penalty")->capture_default_str();
  cmd->add_option("--noise-samples", o.smoothgrad.samples, "SmoothGrad noisy samples")->capture_default_str();
  cmd->add_option("--noise-level", o.smoothgrad.noise_level, "SmoothGrad noise, as a share of the embeddings' standard deviation")
      ->capture_default_str();
  cmd->add_option("--layer", o.attention.layer, "Attention methods: self-attention layer (-1 = pooling / every layer)")
      ->capture_default_str();
  cmd->add_option("--head", o.attention.head, "Attention methods: head (-1 = mean of heads)")->capture_default_str();
  cmd->add_option("--max-flow-tokens", o.flow.max_tokens, "Attention flow: longest text accepted")->capture_default_str();
  cmd->add_option("--seed", o.seed, "Seed of LIME, Kernel SHAP and SmoothGrad samples")->capture_default_str();
  cmd->add_flag("--plain", f.plain,
                "Use the generic paths instead of the BiLSTM fast ones (same scores; slower; for checking)");
}

}  // namespace lumen::cli
