// Precompiled header: LibTorch's headers cost about 15 s per translation unit on two cores.
#pragma once
#include <torch/torch.h>

#include <nlohmann/json.hpp>
