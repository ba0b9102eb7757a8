#include "tls_util.h"

namespace ser::tls {

std::string drain_errors()
{
    std::string out;
    unsigned long e;
    while ((e = ERR_get_error()) != 0) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        const char* reason = ERR_reason_error_string(e);
        if (!out.empty())
            out += "; ";
        out += reason ? reason : buf;
    }
    return out;
}

BioPtr open_pem(const std::string& path)
{
    return BioPtr(BIO_new_file(path.c_str(), "r"));
}

}  // namespace ser::tls
