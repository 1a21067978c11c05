// The stable hash of a key: what a hash collection stores and files its
// entries under. Python's own hash of a str is randomized per process, so it
// can never be stored; this one is the same in every process and on every
// machine: XXH3-64 (util/checksum.h) with a fixed seed over the key's
// *key form*.
//
// The key form is one canonical encoding per class of keys that Python
// considers equal, so equal keys have equal forms, hence equal hashes, and
// comparing forms is comparing keys:
// - True and False are the ints 1 and 0;
// - a float with an integral value (0.0, -0.0, 1.0, 1e300) is that int, of
//   any size; other floats (1.5, inf, nan) keep their bits;
// - ints, strs and bytes are their canonical value encodings;
// - a tuple is a tuple of its elements' key forms.
// Keys are inline values (value_format.h) of those types; a reference (a
// collection), a blob form or the absent form is not a key.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace pagefs {

// Appends the key form of the inline value key to out. Error(kInvalidArgument)
// "unhashable ..." when key is a reference or holds one (a tuple of lists),
// Error(kCorruption) when it is not a value at all.
void AppendKeyForm(std::string_view key, std::string& out);
std::string KeyForm(std::string_view key);
// The key form of key: key itself when it is one already (a short str, a
// small int: the usual keys, with no copy), else built into scratch.
std::string_view KeyFormOf(std::string_view key, std::string& scratch);

// The stable hash of a key form (as KeyForm returns it).
uint64_t StableHashOfForm(std::string_view key_form);
// KeyForm, then StableHashOfForm.
uint64_t StableHash(std::string_view key);

}  // namespace pagefs
