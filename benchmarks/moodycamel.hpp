// benchmarks/moodycamel.hpp: moodycamel::ConcurrentQueue, the anchor of the MPSC and
// Disruptor benchmarks, from whichever layout the package manager installed:
// Debian's libconcurrentqueue-dev puts it at concurrentqueue/concurrentqueue.h, vcpkg's
// concurrentqueue port at concurrentqueue/moodycamel/concurrentqueue.h.
#pragma once

#if __has_include(<concurrentqueue/moodycamel/concurrentqueue.h>)
#include <concurrentqueue/moodycamel/concurrentqueue.h>
#else
#include <concurrentqueue/concurrentqueue.h>
#endif
