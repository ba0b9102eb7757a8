// The transport BIO (see tls_bio.h): a source/sink BIO method whose data is
// the LowerLink of one connection.
#include "tls_bio.h"

#include <openssl/bio.h>

#include <mutex>

namespace ser::tls {
namespace {

LowerLink* link_of(BIO* b) { return static_cast<LowerLink*>(BIO_get_data(b)); }

int bio_write(BIO* b, const char* data, size_t len, size_t* written)
{
    BIO_clear_retry_flags(b);
    LowerLink* l = link_of(b);
    IoResult r = l->lower->write(*l->conn, std::span<const char>(data, len));
    if (r.status == IoStatus::Ok) {
        *written = r.bytes;
        return 1;
    }
    if (r.status == IoStatus::Again)
        BIO_set_retry_write(b);
    return 0;
}

int bio_read(BIO* b, char* data, size_t len, size_t* got)
{
    BIO_clear_retry_flags(b);
    LowerLink* l = link_of(b);
    IoResult r = l->lower->read(*l->conn, std::span<char>(data, len));
    if (r.status == IoStatus::Ok && r.bytes > 0) {
        if (l->first_byte < 0)
            l->first_byte = static_cast<unsigned char>(data[0]);
        *got = r.bytes;
        return 1;
    }
    if (r.status == IoStatus::Again || r.status == IoStatus::Ok)
        BIO_set_retry_read(b);
    return 0;   // Closed: end of file; Error: a failure OpenSSL reports as such
}

long bio_ctrl(BIO*, int cmd, long, void*)
{
    // Writes go straight to the layer below: there is nothing to flush.
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

int bio_create(BIO* b)
{
    BIO_set_init(b, 1);
    return 1;
}

BIO_METHOD* method()
{
    static BIO_METHOD* m = nullptr;
    static std::once_flag once;
    std::call_once(once, [] {
        m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "ser transport");
        BIO_meth_set_write_ex(m, bio_write);
        BIO_meth_set_read_ex(m, bio_read);
        BIO_meth_set_ctrl(m, bio_ctrl);
        BIO_meth_set_create(m, bio_create);
    });
    return m;
}

}  // namespace

BIO* transport_bio(LowerLink& link)
{
    BIO* b = BIO_new(method());
    if (b)
        BIO_set_data(b, &link);
    return b;
}

}  // namespace ser::tls
