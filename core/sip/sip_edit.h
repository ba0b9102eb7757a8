// Edits against an original message buffer, applied in one pass to build the
// outgoing message (SER's "lumps"): the parsed message keeps pointing into the
// unmodified receive buffer while the route script queues changes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace ser::sip {

class Edits {
public:
    // Queues `text` to be inserted before original byte `offset` (offset ==
    // size inserts at the end). Inserts at one offset keep their call order
    // and come before a removal or replacement starting there.
    void insert(size_t offset, std::string text);

    // Queues deletion of the original bytes [start, end).
    void remove(size_t start, size_t end);

    // Queues replacement of the original bytes [start, end) by `text`.
    void replace(size_t start, size_t end, std::string text);

    // Builds the edited message into out (replacing its contents). Returns
    // false, leaving out empty, when an edit lies outside original, has
    // start > end, overlaps another removed range, or inserts inside one.
    bool apply(std::string_view original, std::string& out) const;

    // Number of queued edits.
    size_t size() const { return edits_.size(); }

    // True when no edit is queued (apply() would copy original unchanged).
    bool empty() const { return edits_.empty(); }

    // Drops every queued edit.
    void clear() { edits_.clear(); }

private:
    struct Edit {
        size_t start;
        size_t end;  // == start for a pure insertion
        std::string text;
    };
    std::vector<Edit> edits_;  // in call order
};

}  // namespace ser::sip
