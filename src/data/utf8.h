// UTF-8 validation, decoding and repair. Invalid input is reported with its byte offset.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace lumen::data {

// Returns the byte offset of the first invalid UTF-8 sequence in `s`, or std::string::npos.
size_t find_invalid_utf8(const std::string& s);

// Decodes valid UTF-8 into code points. Precondition: find_invalid_utf8(s) == npos.
std::vector<char32_t> decode_utf8(const std::string& s);

// Appends the UTF-8 encoding of code point `c` to `out`.
void append_utf8(std::string& out, char32_t c);

// Reads invalid bytes as Latin-1 (what legacy e-mail and web text usually is) and returns valid
// UTF-8. Valid input is returned unchanged.
std::string repair_utf8(const std::string& s);

}  // namespace lumen::data
