// libFuzzer target: the stream framer of TCP and TLS (sip::next_frame, what
// the TCP worker's SipFramer calls), driven the way ConnLoop::cut_frames
// drives a framer: bytes arrive, frames are cut from the front of what is
// unread until it needs more. The input is one stream; it must frame the
// same whether it arrives whole, split at any one byte boundary, or a byte
// at a time: the same frames (kind, bytes) in the same order, the same error
// or none, and the same bytes left over.
#include "sip/sip_framing.h"
#include "sip/sip_msg.h"

#include "fuzz_check.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

using namespace ser;

namespace {

constexpr size_t kMax = 1024;   // tcp_max_msg_size, small so that the limit is reached

struct Event {
    sip::FrameStatus status;
    std::string bytes;
    bool operator==(const Event&) const = default;
};

struct Result {
    std::vector<Event> events;
    std::string rest;      // unread at the end (a frame still incomplete)
    bool failed = false;   // the framer said Error: the connection closes
};

// Like cut_frames: everything the framer can cut from the unread bytes.
void cut(std::string& unread, Result& r)
{
    while (!r.failed && !unread.empty()) {
        sip::Frame f = sip::next_frame(unread, kMax);
        if (f.status == sip::FrameStatus::NeedMore)
            return;
        if (f.status == sip::FrameStatus::Error) {
            FUZZ_CHECK(!f.error.empty());
            r.failed = true;
            r.events.push_back({f.status, {}});   // the reason may name what it saw first
            return;
        }
        FUZZ_CHECK(f.length > 0 && f.length <= unread.size());
        if (f.status == sip::FrameStatus::Ping)
            FUZZ_CHECK(unread.compare(0, f.length, "\r\n\r\n") == 0);
        if (f.status == sip::FrameStatus::Pong)
            FUZZ_CHECK(unread.compare(0, f.length, "\r\n") == 0);
        if (f.status == sip::FrameStatus::Message)
            FUZZ_CHECK(f.length <= kMax);
        r.events.push_back({f.status, unread.substr(0, f.length)});
        unread.erase(0, f.length);
    }
}

// The stream in reads that end at each of `cuts` (ascending), then the rest.
Result frame(std::string_view stream, const std::vector<size_t>& cuts)
{
    Result r;
    std::string unread;
    size_t at = 0;
    for (size_t c : cuts) {
        unread.append(stream.substr(at, c - at));
        at = c;
        cut(unread, r);
        if (r.failed)
            return r;
    }
    unread.append(stream.substr(at));
    cut(unread, r);
    if (!r.failed)
        r.rest = unread;
    return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size > 2 * kMax)
        return 0;   // every split below costs O(size^2)
    std::string_view stream(reinterpret_cast<const char*>(data), size);
    const Result whole = frame(stream, {});
    // A framed message is what the parser gets next; it must not crash it.
    for (const Event& e : whole.events)
        if (e.status == sip::FrameStatus::Message) {
            sip::SipMsg m;
            sip::parse_message(e.bytes, m, kMax);
        }
    for (size_t k = 1; k < size; k++) {
        Result split = frame(stream, {k});
        FUZZ_CHECK(split.events == whole.events);
        FUZZ_CHECK(split.failed == whole.failed);
        FUZZ_CHECK(split.rest == whole.rest);
    }
    std::vector<size_t> every;
    for (size_t k = 1; k < size; k++)
        every.push_back(k);
    Result bytewise = frame(stream, every);
    FUZZ_CHECK(bytewise.events == whole.events);
    FUZZ_CHECK(bytewise.failed == whole.failed);
    FUZZ_CHECK(bytewise.rest == whole.rest);
    return 0;
}
