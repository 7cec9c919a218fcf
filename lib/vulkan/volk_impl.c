/* volk_impl.c - compiles the system's volk loader into the library (symbols stay hidden). */
#include <volk.c>
