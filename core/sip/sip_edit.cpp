// One-pass application of queued message edits. See sip_edit.h.
#include "sip/sip_edit.h"

#include <algorithm>
#include <numeric>
#include <utility>

namespace ser::sip {

void Edits::insert(size_t offset, std::string text)
{
    edits_.push_back(Edit{offset, offset, std::move(text)});
}

void Edits::remove(size_t start, size_t end)
{
    edits_.push_back(Edit{start, end, {}});
}

void Edits::replace(size_t start, size_t end, std::string text)
{
    edits_.push_back(Edit{start, end, std::move(text)});
}

bool Edits::apply(std::string_view original, std::string& out) const
{
    out.clear();
    std::vector<size_t> order(edits_.size());
    std::iota(order.begin(), order.end(), size_t{0});
    // By offset; at one offset insertions (empty ranges) first; call order
    // breaks the remaining ties (stable sort).
    std::stable_sort(order.begin(), order.end(), [this](size_t a, size_t b) {
        const Edit& x = edits_[a];
        const Edit& y = edits_[b];
        if (x.start != y.start)
            return x.start < y.start;
        return (x.end == x.start) && (y.end != y.start);
    });
    size_t grow = 0;
    for (const Edit& e : edits_) {
        if (e.start > e.end || e.end > original.size())
            return false;
        grow += e.text.size();
    }
    out.reserve(original.size() + grow);
    size_t pos = 0;  // first original byte not yet copied or removed
    for (size_t k : order) {
        const Edit& e = edits_[k];
        if (e.start < pos) {  // inside or overlapping an earlier removed range
            out.clear();
            return false;
        }
        out.append(original.substr(pos, e.start - pos));
        out.append(e.text);
        pos = e.end;
    }
    out.append(original.substr(pos));
    return true;
}

}  // namespace ser::sip
