// y = x W^T + b with the products split by rows over the cores (plain threads, one BLAS thread
// each), forward and backward. Lumen keeps LibTorch and OpenBLAS at one thread (core/runtime.h),
// so without this a large linear layer outside the BiLSTM kernel would leave a core idle.
#pragma once
#include <ATen/core/Tensor.h>

namespace lumen::models {

// x [..., in]; weight [out, in]; bias [out] or undefined. Returns [..., out]. Differentiable in
// all three; equal to torch::nn::functional::linear.
at::Tensor parallel_linear(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias);

}  // namespace lumen::models
