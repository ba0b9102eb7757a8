// Stats (core/shm/stats.cpp): slots written by their owners only and summed
// by readers across fork, resets that never write a slot, per-transport and
// per-listener message counts, slots out of range refused.
#include "shm/shm.h"
#include "shm/stats.h"

#include <cppunit/extensions/HelperMacros.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <string>

namespace ser {

class StatsTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(StatsTest);
    CPPUNIT_TEST(childrenSumInParent);
    CPPUNIT_TEST(resetSubtractsBase);
    CPPUNIT_TEST(resetSeesLaterCountsOfChild);
    CPPUNIT_TEST(perTransportAndListener);
    CPPUNIT_TEST(slotOutOfRangeRefused);
    CPPUNIT_TEST(unboundSlotIsNotSummed);
    CPPUNIT_TEST(sizeIsBounded);
    CPPUNIT_TEST(reasonsHaveNames);
    CPPUNIT_TEST(invalidByOutcome);
    CPPUNIT_TEST_SUITE_END();

    // Waits at most 10 s for `pid`; true when it exited with 0.
    static bool exited_ok(pid_t pid)
    {
        for (int i = 0; i < 1000; i++) {
            int st = 0;
            if (waitpid(pid, &st, WNOHANG) == pid)
                return WIFEXITED(st) && WEXITSTATUS(st) == 0;
            usleep(10000);
        }
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
        return false;
    }

    // Forks a child that counts through slot `i` with `f`, then exits.
    template <typename F>
    static pid_t child(Stats& s, uint32_t i, F f)
    {
        pid_t pid = fork();
        if (pid == 0) {
            std::optional<StatsSlot> slot = s.slot(i);
            if (!slot)
                _exit(2);
            f(*slot);
            _exit(0);
        }
        return pid;
    }

public:
    void childrenSumInParent()
    {
        auto shm = Shm::create(1 << 20);
        Stats* s = Stats::create(*shm, 3, 2);
        CPPUNIT_ASSERT(s);
        constexpr uint64_t n = 200000;
        // Both children count at once on the same counters, each in its own slot.
        auto work = [](uint64_t k) {
            return [k](StatsSlot& st) {
                for (uint64_t i = 0; i < n; i++) {
                    st.count(Stat::RequestsIn);
                    st.msg_in(Proto::Udp, 1);
                }
                st.count(DropReason::NotOurs, k);
                st.discarded(DiscardReason::AfterBody, 10 * k);
            };
        };
        pid_t a = child(*s, 1, work(1));
        pid_t b = child(*s, 2, work(2));
        CPPUNIT_ASSERT(exited_ok(a));
        CPPUNIT_ASSERT(exited_ok(b));
        StatsSnapshot sum = s->sum();
        CPPUNIT_ASSERT_EQUAL(2 * n, sum[Stat::RequestsIn]);
        CPPUNIT_ASSERT_EQUAL(2 * n, sum.msgs_in(Proto::Udp));
        CPPUNIT_ASSERT_EQUAL(2 * n, sum.listener_in(1));
        CPPUNIT_ASSERT_EQUAL(uint64_t{0}, sum.listener_in(0));
        CPPUNIT_ASSERT_EQUAL(uint64_t{3}, sum[DropReason::NotOurs]);
        CPPUNIT_ASSERT_EQUAL(uint64_t{3}, sum.dropped());
        CPPUNIT_ASSERT_EQUAL(uint64_t{2}, sum.discarded_msgs(DiscardReason::AfterBody));
        CPPUNIT_ASSERT_EQUAL(uint64_t{30}, sum.discarded_bytes(DiscardReason::AfterBody));
        // Each slot holds its own process's counts; main's stayed empty.
        CPPUNIT_ASSERT_EQUAL(uint64_t{1}, s->of_slot(1)[DropReason::NotOurs]);
        CPPUNIT_ASSERT_EQUAL(uint64_t{2}, s->of_slot(2)[DropReason::NotOurs]);
        CPPUNIT_ASSERT_EQUAL(n, s->of_slot(2)[Stat::RequestsIn]);
        CPPUNIT_ASSERT_EQUAL(uint64_t{0}, s->of_slot(0)[Stat::RequestsIn]);
    }

    void resetSubtractsBase()
    {
        auto shm = Shm::create(1 << 20);
        Stats* s = Stats::create(*shm, 2, 1);
        StatsSlot st = *s->slot(1);
        st.count(CloseReason::Idle, 5);
        st.msg_out(Proto::Tcp, 0);
        CPPUNIT_ASSERT_EQUAL(uint64_t{5}, s->sum()[CloseReason::Idle]);
        s->reset();
        StatsSnapshot z = s->sum();
        CPPUNIT_ASSERT_EQUAL(uint64_t{0}, z[CloseReason::Idle]);
        CPPUNIT_ASSERT_EQUAL(uint64_t{0}, z.msgs_out(Proto::Tcp));
        CPPUNIT_ASSERT_EQUAL(uint64_t{0}, z.listener_out(0));
        CPPUNIT_ASSERT_EQUAL(uint64_t{0}, s->of_slot(1)[CloseReason::Idle]);
        // The owner counts on from where it was; readers see only what came after.
        st.count(CloseReason::Idle, 3);
        st.msg_out(Proto::Tcp, 0);
        CPPUNIT_ASSERT_EQUAL(uint64_t{3}, s->sum()[CloseReason::Idle]);
        CPPUNIT_ASSERT_EQUAL(uint64_t{1}, s->sum().listener_out(0));
        s->reset();
        s->reset();
        CPPUNIT_ASSERT_EQUAL(uint64_t{0}, s->sum()[CloseReason::Idle]);
        st.count(CloseReason::Idle);
        CPPUNIT_ASSERT_EQUAL(uint64_t{1}, s->sum()[CloseReason::Idle]);
    }

    void resetSeesLaterCountsOfChild()
    {
        auto shm = Shm::create(1 << 20);
        Stats* s = Stats::create(*shm, 2, 0);
        CPPUNIT_ASSERT(exited_ok(child(*s, 1, [](StatsSlot& st) { st.count(Stat::ParseErrors, 7); })));
        s->reset();
        // A later process of the same slot (a restarted child) adds to what
        // its predecessor left; the reset still hides only the old counts.
        CPPUNIT_ASSERT(exited_ok(child(*s, 1, [](StatsSlot& st) { st.count(Stat::ParseErrors, 2); })));
        CPPUNIT_ASSERT_EQUAL(uint64_t{2}, s->sum()[Stat::ParseErrors]);
    }

    void perTransportAndListener()
    {
        auto shm = Shm::create(1 << 20);
        Stats* s = Stats::create(*shm, 1, 3);
        StatsSlot st = *s->slot(0);
        st.msg_in(Proto::Udp, 0);
        st.msg_in(Proto::Tcp, 1);
        st.msg_in(Proto::Tcp, 1);
        st.msg_out(Proto::Tls, 2);
        // No listener, or one out of range: the transport counts, no listener does.
        st.msg_out(Proto::Tcp, -1);
        st.msg_out(Proto::Tcp, 3);
        StatsSnapshot v = s->sum();
        CPPUNIT_ASSERT_EQUAL(uint64_t{1}, v.msgs_in(Proto::Udp));
        CPPUNIT_ASSERT_EQUAL(uint64_t{2}, v.msgs_in(Proto::Tcp));
        CPPUNIT_ASSERT_EQUAL(uint64_t{0}, v.msgs_in(Proto::Tls));
        CPPUNIT_ASSERT_EQUAL(uint64_t{2}, v.msgs_out(Proto::Tcp));
        CPPUNIT_ASSERT_EQUAL(uint64_t{1}, v.msgs_out(Proto::Tls));
        CPPUNIT_ASSERT_EQUAL(uint64_t{1}, v.listener_in(0));
        CPPUNIT_ASSERT_EQUAL(uint64_t{2}, v.listener_in(1));
        CPPUNIT_ASSERT_EQUAL(uint64_t{0}, v.listener_out(1));
        CPPUNIT_ASSERT_EQUAL(uint64_t{1}, v.listener_out(2));
        CPPUNIT_ASSERT_EQUAL(uint64_t{0}, v.listener_out(3));
        uint64_t all_out = 0;
        for (size_t l = 0; l < v.listeners; l++)
            all_out += v.listener_out(l);
        CPPUNIT_ASSERT_EQUAL(uint64_t{1}, all_out);   // the two without a listener wrote none
    }

    void slotOutOfRangeRefused()
    {
        auto shm = Shm::create(1 << 20);
        Stats* s = Stats::create(*shm, 2, 1);
        CPPUNIT_ASSERT(s->slot(1));
        CPPUNIT_ASSERT(!s->slot(2));
        CPPUNIT_ASSERT(!s->slot(1000000));
        CPPUNIT_ASSERT_EQUAL(uint64_t{0}, s->of_slot(2)[Stat::RequestsIn]);
        // The last slot is the last one summed; a slot past it would write
        // into the bases, which would then hide counts.
        s->slot(1)->count(Stat::RequestsIn, 4);
        CPPUNIT_ASSERT_EQUAL(uint64_t{4}, s->sum()[Stat::RequestsIn]);
    }

    void unboundSlotIsNotSummed()
    {
        auto shm = Shm::create(1 << 20);
        Stats* s = Stats::create(*shm, 2, 1);
        StatsSlot sink;
        sink.count(Stat::RequestsIn, 9);
        sink.msg_in(Proto::Udp, 0);
        StatsSnapshot v = s->sum();
        CPPUNIT_ASSERT_EQUAL(uint64_t{0}, v[Stat::RequestsIn]);
        CPPUNIT_ASSERT_EQUAL(uint64_t{0}, v.msgs_in(Proto::Udp));
        // local() counts where it was bound.
        StatsSlot before = Stats::local();
        Stats::bind_local(*s->slot(1));
        Stats::local().count(TlsFailReason::BadCertificate);
        Stats::bind_local(before);
        Stats::local().count(TlsFailReason::BadCertificate);
        CPPUNIT_ASSERT_EQUAL(uint64_t{1}, s->sum()[TlsFailReason::BadCertificate]);
    }

    void sizeIsBounded()
    {
        size_t need = Stats::bytes_needed(9, 4);
        auto fits = Shm::create(need);
        CPPUNIT_ASSERT(Stats::create(*fits, 9, 4));
        auto small = Shm::create(need / 2);
        CPPUNIT_ASSERT(!Stats::create(*small, 9, 4));
        auto shm = Shm::create(1 << 20);
        CPPUNIT_ASSERT(!Stats::create(*shm, 0, 4));
        // One more listener or slot costs more.
        CPPUNIT_ASSERT(Stats::bytes_needed(10, 4) > need);
        CPPUNIT_ASSERT(Stats::bytes_needed(9, 20) > need);
    }

    // Invalid messages: answered and dropped apart, per defect, in the log lines too.
    void invalidByOutcome()
    {
        auto shm = Shm::create(1 << 16);
        Stats* st = Stats::create(*shm, 2, 0);
        st->slot(1)->invalid(InvalidReason::CSeqMethod, true);
        st->slot(1)->invalid(InvalidReason::CSeqMethod, true);
        st->slot(0)->invalid(InvalidReason::Via, false);
        StatsSnapshot s = st->sum();
        CPPUNIT_ASSERT_EQUAL(uint64_t{2}, s.invalid_answered(InvalidReason::CSeqMethod));
        CPPUNIT_ASSERT_EQUAL(uint64_t{0}, s.invalid_dropped(InvalidReason::CSeqMethod));
        CPPUNIT_ASSERT_EQUAL(uint64_t{1}, s.invalid_dropped(InvalidReason::Via));
        CPPUNIT_ASSERT_EQUAL(uint64_t{0}, s.msgs_in(Proto::Udp));   // apart from what follows in the layout
        std::string lines;
        for (const std::string& l : stats_log_lines(s))
            lines += l + "\n";
        CPPUNIT_ASSERT_MESSAGE(lines, lines.find("stats invalid answered 400: cseq_method=2\n") != std::string::npos);
        CPPUNIT_ASSERT_MESSAGE(lines, lines.find("stats invalid dropped: via=1\n") != std::string::npos);
    }

    void reasonsHaveNames()
    {
        std::set<std::string> seen;
        auto all = [&](auto count, auto name) {
            for (size_t i = 0; i < static_cast<size_t>(count); i++) {
                std::string n(stat_name(static_cast<decltype(count)>(i)));
                CPPUNIT_ASSERT_MESSAGE(n, !n.empty() && n != "unknown");
                CPPUNIT_ASSERT_MESSAGE(std::string(name) + ": " + n, seen.insert(std::string(name) + n).second);
            }
        };
        all(Stat::Count, "stat");
        all(DropReason::Count, "drop");
        all(SendError::Count, "send");
        all(DiscardReason::Count, "discard");
        all(RefuseReason::Count, "refuse");
        all(CloseReason::Count, "close");
        all(TlsFailReason::Count, "tls");
        all(InvalidReason::Count, "invalid");
        CPPUNIT_ASSERT_EQUAL(std::string("not_ours"), std::string(stat_name(DropReason::NotOurs)));
        CPPUNIT_ASSERT_EQUAL(std::string("msg_read_timeout"), std::string(stat_name(CloseReason::MsgReadTimeout)));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(StatsTest);

}  // namespace ser
