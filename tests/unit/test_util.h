#pragma once
// Small helpers shared by the CppUnit fixtures.

#include <string>
#include <string_view>

namespace ser::test {

// Writes a message with CRLF line endings ("\n" in s becomes "\r\n").
inline std::string crlf(std::string_view s)
{
    std::string r;
    for (char c : s) {
        if (c == '\n')
            r += '\r';
        r += c;
    }
    return r;
}

}  // namespace ser::test
