// Conicity (Chandrahas et al. 2018, the diagnostic of Mohankumar et al. 2020): how narrow a cone
// the encoder's hidden states of one text fill, the mean cosine of each state with their mean,
//   conicity(V) = (1/n) sum_i cos(v_i, (1/n) sum_j v_j).
// Near 1 the states are alike and permuting or replacing the attention over them barely moves
// the output (the reason Mohankumar et al. give for attention's low faithfulness in LSTMs).
#pragma once
#include <ATen/core/Tensor.h>

namespace lumen::analysis {

// Conicity of the rows of `states` [n, m] (n >= 1); 0 when the mean state is the zero vector.
double conicity(const at::Tensor& states);

}  // namespace lumen::analysis
