#include "plugins/sms/phone_number.hpp"

namespace artistsaid::plugins {

bool is_e164(const std::string& n) {
    if (n.size() < 3 || n.size() > 16 || n[0] != '+' || n[1] < '1' || n[1] > '9') return false;
    for (std::size_t i = 2; i < n.size(); ++i)
        if (n[i] < '0' || n[i] > '9') return false;
    return true;
}

}  // namespace artistsaid::plugins
