// Runner of the CppUnit suite: runs every registered fixture and ends with the
// plain summary line "N passed, N failed" that CI reads.
#include <cppunit/BriefTestProgressListener.h>
#include <cppunit/CompilerOutputter.h>
#include <cppunit/TestResult.h>
#include <cppunit/TestResultCollector.h>
#include <cppunit/TestRunner.h>
#include <cppunit/extensions/TestFactoryRegistry.h>

#include <cstring>
#include <iostream>

int main(int argc, char** argv)
{
    CppUnit::TestResult result;
    CppUnit::TestResultCollector collected;
    result.addListener(&collected);
    CppUnit::BriefTestProgressListener progress;
    bool verbose = argc > 1 && std::strcmp(argv[1], "-v") == 0;
    if (verbose)
        result.addListener(&progress);

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
