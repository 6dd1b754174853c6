// Effective attention (Brunner et al. 2020, "On Identifiability in Transformers", section 4):
// a head's output is A T with T = V W_O^T the value-times-output map of its keys ([n, d], n the
// sequence's positions). When n exceeds T's rank, A has a component in T's left null space
// {u : u^T T = 0} that changes nothing downstream. Effective attention is A with that component
// removed: A_eff = A P, P the orthogonal projection onto T's column space (from its SVD; singular
// values below max(n, d) * machine epsilon * the largest are zero). A_eff T = A T; A_eff may be
// negative and its rows need not sum to 1.
#pragma once
#include <ATen/core/Tensor.h>

namespace lumen::models {

// attention [B, H, T, T] (rows = queries), value_maps [B, H, T, d] (EncoderOutput::value_maps),
// mask [B, T] bool (non-pad positions): each row's keys are its non-pad positions. Returns
// [B, H, T, T], 0 on padded keys and queries.
at::Tensor effective_attention(const at::Tensor& attention, const at::Tensor& value_maps, const at::Tensor& mask);

}  // namespace lumen::models
