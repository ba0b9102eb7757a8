// The heartbeat (shm/heartbeat.h) in the process table's rows: a child bound
// to its row beats, main reads the beat across fork; nothing is written when
// unbound; reset_beat gives a child about to start a fresh beat; rows out of
// range read 0 and have no cell.
#include "clock.h"
#include "shm/heartbeat.h"
#include "shm/proc_table.h"
#include "shm/shm.h"

#include <cppunit/extensions/HelperMacros.h>

#include <sys/wait.h>
#include <unistd.h>

namespace ser {

class HeartbeatTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(HeartbeatTest);
    CPPUNIT_TEST(unboundBeatsNowhere);
    CPPUNIT_TEST(boundBeatMovesTheRow);
    CPPUNIT_TEST(childBeatsParentReads);
    CPPUNIT_TEST(rowsOutOfRange);
    CPPUNIT_TEST_SUITE_END();

public:
    void tearDown() override { heartbeat::bind(nullptr); }

    void unboundBeatsNowhere()
    {
        auto shm = Shm::create(1 << 20);
        ProcTable* t = ProcTable::create(*shm, 2);
        CPPUNIT_ASSERT(t);
        heartbeat::bind(nullptr);
        heartbeat::beat();   // main and tests: no row, no effect, no crash
        CPPUNIT_ASSERT_EQUAL(int64_t{0}, t->last_beat(0));
        CPPUNIT_ASSERT_EQUAL(int64_t{0}, t->last_beat(1));
    }

    void boundBeatMovesTheRow()
    {
        auto shm = Shm::create(1 << 20);
        ProcTable* t = ProcTable::create(*shm, 2);
        t->reset_beat(1, 42);
        CPPUNIT_ASSERT_EQUAL(int64_t{42}, t->last_beat(1));
        heartbeat::bind(t->beat_cell(1));
        int64_t before = now_ms();
        heartbeat::beat();
        CPPUNIT_ASSERT(t->last_beat(1) >= before && t->last_beat(1) <= now_ms());
        CPPUNIT_ASSERT_EQUAL(int64_t{0}, t->last_beat(0));   // the other row is untouched
        CPPUNIT_ASSERT_EQUAL(t->last_beat(1), t->read()[1].beat_ms);
    }

    void childBeatsParentReads()
    {
        auto shm = Shm::create(1 << 20);
        ProcTable* t = ProcTable::create(*shm, 1);
        t->reset_beat(0, 1);
        pid_t pid = fork();
        CPPUNIT_ASSERT(pid >= 0);
        if (pid == 0) {
            heartbeat::bind(t->beat_cell(0));
            heartbeat::beat();
            _exit(0);
        }
        int st = 0;
        CPPUNIT_ASSERT_EQUAL(pid, waitpid(pid, &st, 0));
        CPPUNIT_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        CPPUNIT_ASSERT(t->last_beat(0) > 1);
        CPPUNIT_ASSERT(now_ms() - t->last_beat(0) < 5000);
    }

    void rowsOutOfRange()
    {
        auto shm = Shm::create(1 << 20);
        ProcTable* t = ProcTable::create(*shm, 1);
        CPPUNIT_ASSERT(t->beat_cell(1) == nullptr);
        t->reset_beat(1, 7);   // ignored
        CPPUNIT_ASSERT_EQUAL(int64_t{0}, t->last_beat(1));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(HeartbeatTest);

}  // namespace ser
