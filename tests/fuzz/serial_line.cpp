// libFuzzer target: the serial bridge's framing=line framer (serial/
// serial_framers.h) driven as ConnLoop::cut_frames drives it, the client's
// bytes arriving whole, split at any one byte boundary, or a byte at a time.
// Nothing is lost, doubled or reordered (the frames and what is left unread
// are the input again); a frame is one line with its LF, or a piece of at
// least kMaxLine bytes without one; what is left holds no LF and is under
// kMaxLine. While no line outgrows kMaxLine (where the cut depends on what
// had arrived) the frames are the same however the bytes arrive (inputs over
// 1 KB are split at a sample of ~512 boundaries, not all of them). The raw
// framer passes every read on whole.
#include "serial/serial_framers.h"

#include "fuzz_check.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

using namespace ser;
using ser::serial::kMaxLine;

namespace {

struct Result {
    std::vector<std::string> frames;
    std::string rest;
    bool long_piece = false;   // a frame was cut at kMaxLine, not at an LF
};

void cut(Framer& f, std::string& unread, Result& r)
{
    while (!unread.empty()) {
        FrameCut c = f.next(unread);
        FUZZ_CHECK(c.kind == FrameCut::Kind::NeedMore || c.kind == FrameCut::Kind::Frame);
        if (c.kind == FrameCut::Kind::NeedMore)
            return;
        FUZZ_CHECK(c.length > 0 && c.length <= unread.size());
        std::string fr = unread.substr(0, c.length);
        size_t lf = fr.find('\n');
        if (lf == std::string::npos) {
            FUZZ_CHECK(fr.size() >= kMaxLine);
            r.long_piece = true;
        } else {
            FUZZ_CHECK(lf == fr.size() - 1);
        }
        r.frames.push_back(std::move(fr));
        unread.erase(0, c.length);
    }
}

Result frame(std::string_view in, const std::vector<size_t>& cuts)
{
    serial::LineFramer f;
    Result r;
    std::string unread;
    size_t at = 0;
    for (size_t c : cuts) {
        unread.append(in.substr(at, c - at));
        at = c;
        cut(f, unread, r);
    }
    unread.append(in.substr(at));
    cut(f, unread, r);
    r.rest = unread;
    FUZZ_CHECK(r.rest.find('\n') == std::string::npos && r.rest.size() < kMaxLine);
    std::string all;
    for (const std::string& s : r.frames)
        all += s;
    FUZZ_CHECK(all + r.rest == in);
    return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size > kMaxLine + 1024)
        return 0;   // enough to outgrow kMaxLine; the splits below cost O(size^2)
    std::string_view in(reinterpret_cast<const char*>(data), size);
    serial::RawFramer raw;
    if (size > 0) {
        FrameCut c = raw.next(in);
        FUZZ_CHECK(c.kind == FrameCut::Kind::Frame && c.length == size);
    }
    const Result whole = frame(in, {});
    std::vector<size_t> every;
    // Every boundary of a short input; of a long one (a line near kMaxLine)
    // about 512 of them, so that a run still makes progress.
    size_t stride = size <= 1024 ? 1 : size / 512;
    for (size_t k = 1; k < size; k += stride) {
        Result split = frame(in, {k});
        if (!whole.long_piece && !split.long_piece)
            FUZZ_CHECK(split.frames == whole.frames && split.rest == whole.rest);
    }
    for (size_t k = 1; k < size; k++)
        every.push_back(k);
    Result bytewise = frame(in, every);
    if (!whole.long_piece && !bytewise.long_piece)
        FUZZ_CHECK(bytewise.frames == whole.frames);
    return 0;
}
