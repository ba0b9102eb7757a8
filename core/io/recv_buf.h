#pragma once
// A bounded receive buffer with an explicit cursor (nginx ngx_buf_t style):
// [start, end) holds unread bytes; the capacity is fixed at construction and
// never grows. At the limit the caller gets zero space, never a reallocation.
// The memory is attached only while it is needed: an idle connection holds
// none (its owner lends a block for a read burst and takes it back when
// every byte was consumed).

#include <cstring>
#include <memory>
#include <string_view>

namespace ser {

class RecvBuf {
public:
    explicit RecvBuf(size_t capacity) : cap_(capacity) {}

    bool attached() const { return data_ != nullptr; }
    // A block of capacity() bytes to read into (only when none is attached).
    void attach(std::unique_ptr<char[]> block) { data_ = std::move(block); }
    // Gives the block back when it holds no unread byte; else nullptr.
    std::unique_ptr<char[]> detach() { return empty() ? std::move(data_) : nullptr; }

    std::string_view data() const { return {data_.get() + start_, end_ - start_}; }
    size_t size() const { return end_ - start_; }
    bool empty() const { return end_ == start_; }
    size_t capacity() const { return cap_; }

    // Room to read into (a block must be attached); moves unread bytes to
    // the front first when that helps.
    char* space()
    {
        if (start_ > 0 && (end_ == cap_ || start_ > cap_ / 2)) {
            std::memmove(data_.get(), data_.get() + start_, end_ - start_);
            end_ -= start_;
            start_ = 0;
        }
        return data_.get() + end_;
    }
    size_t space_left() const { return cap_ - end_ + (start_ > 0 ? start_ : 0); }
    size_t contiguous_space() const { return cap_ - end_; }
    void commit(size_t n) { end_ += n; }
    void consume(size_t n)
    {
        start_ += n;
        if (start_ == end_)
            start_ = end_ = 0;
    }

private:
    std::unique_ptr<char[]> data_;
    size_t cap_;
    size_t start_ = 0, end_ = 0;
};

}  // namespace ser
