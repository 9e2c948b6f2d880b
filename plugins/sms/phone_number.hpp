// E.164 phone numbers: "+" then a country code and subscriber number, 2 to 15 digits, the
// first not 0 ("+4915112345678"). No spaces, dashes or parentheses: callers normalise.
#pragma once

#include <string>

namespace artistsaid::plugins {

bool is_e164(const std::string& number);

}  // namespace artistsaid::plugins
