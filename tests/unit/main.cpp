// Runner of the CppUnit suite: runs every registered fixture and ends with the
// plain summary line "N passed, N failed" that CI reads. -v names each test;
// SER_UNIT_PROGRESS=FILE writes each test's name to FILE as it starts.
#include <cppunit/BriefTestProgressListener.h>
#include <cppunit/CompilerOutputter.h>
#include <cppunit/TestResult.h>
#include <cppunit/TestListener.h>
#include <cppunit/TestResultCollector.h>
#include <cppunit/TestRunner.h>
#include <cppunit/extensions/TestFactoryRegistry.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>

namespace {

// Writes each test's name to a file as the test starts, so whoever stops a
// run that hangs (tests/run.sh, SER_UNIT_PROGRESS) can say which test it was.
class StartLog : public CppUnit::TestListener {
public:
    explicit StartLog(const char* path) : f_(path ? std::fopen(path, "w") : nullptr) {}
    ~StartLog() override
    {
        if (f_)
            std::fclose(f_);
    }
    void startTest(CppUnit::Test* t) override
    {
        if (f_) {
            std::fprintf(f_, "%s\n", t->getName().c_str());
            std::fflush(f_);
        }
    }

private:
    FILE* f_;
};

}  // namespace

int main(int argc, char** argv)
{
    CppUnit::TestResult result;
    CppUnit::TestResultCollector collected;
    result.addListener(&collected);
    CppUnit::BriefTestProgressListener progress;
    bool verbose = argc > 1 && std::strcmp(argv[1], "-v") == 0;
    if (verbose)
        result.addListener(&progress);
    StartLog started(std::getenv("SER_UNIT_PROGRESS"));
    result.addListener(&started);

    CppUnit::TestRunner runner;
    runner.addTest(CppUnit::TestFactoryRegistry::getRegistry().makeTest());
    // An optional argument narrows the run to one fixture or test path.
    const char* only = (argc > 1 && !verbose) ? argv[1] : (argc > 2 ? argv[2] : "");
    runner.run(result, only);

    CppUnit::CompilerOutputter(&collected, std::cerr).write();
    int failed = collected.testFailuresTotal();
    int total = collected.runTests();
    std::cout << "unit: " << (total - failed) << " passed, " << failed << " failed\n";
    return failed == 0 ? 0 : 1;
}
