// In-kernel tests of the kernel's symbol table: the running image's own
// .symtab, as GRUB loaded it, names known functions at their start and
// inside them, and nothing outside the kernel's text.
#include "src/ktest/ktest.h"
#include "src/prof/kernel_symbols.h"

extern "C" char __text_start[], __text_end[];

namespace prof {
namespace {

// A function whose symbol the test looks for: not inlined, so it has an
// address and a size of its own.
[[gnu::noinline]] int symbols_ktest_probe(int x) {
  asm volatile("" ::: "memory");
  return x * 3 + 1;
}

KTEST(prof, symbolize_names_a_known_function) {
  SymbolRef s;
  const uint64_t f = reinterpret_cast<uint64_t>(&symbols_ktest_probe);
  KASSERT_TRUE(symbolize(f, &s));
  KEXPECT_EQ(base::StrView(s.name), base::StrView("_ZN4prof12_GLOBAL__N_119symbols_ktest_probeEi"));
  KEXPECT_EQ(s.start, f);
  KEXPECT_EQ(s.offset, 0u);
  KASSERT_TRUE(s.size > 1u);
  // Inside it: the same symbol, the offset right.
  SymbolRef in;
  KASSERT_TRUE(symbolize(f + s.size - 1, &in));
  KEXPECT_EQ(in.start, f);
  KEXPECT_EQ(in.offset, s.size - 1);
  KEXPECT_EQ(base::StrView(in.name), base::StrView(s.name));
  KEXPECT_EQ(symbols_ktest_probe(2), 7);
}

KTEST(prof, symbolize_names_this_test_and_its_caller) {
  // This test's own code (a return address into it, as a backtrace sees it)
  // and the runner that called it.
  const uint64_t here = reinterpret_cast<uint64_t>(__builtin_return_address(0));
  SymbolRef s;
  KASSERT_TRUE(symbolize_return_address(here, &s));
  KEXPECT_TRUE(base::StrView(s.name).starts_with("_ZN5ktest"));
  char buf[160];
  const base::StrView text =
      format_symbol(reinterpret_cast<uint64_t>(&symbols_ktest_probe) + 2, PcKind::kInstruction, buf, sizeof buf);
  KEXPECT_EQ(text, base::StrView("prof::(anonymous namespace)::symbols_ktest_probe+0x2"));  // demangled
}

KTEST(prof, nothing_outside_the_kernel_text) {
  SymbolRef s;
  KEXPECT_TRUE(!symbolize(0, &s));
  KEXPECT_TRUE(!symbolize(reinterpret_cast<uint64_t>(__text_end) + 0x10'0000,
                          &s));                         // data, not code
  KEXPECT_TRUE(!symbolize(0xffff'8000'0000'0000, &s));  // the direct map
  KEXPECT_TRUE(!symbolize(~uint64_t{0}, &s));
  char buf[32];
  KEXPECT_TRUE(format_symbol(0x1000, PcKind::kInstruction, buf, sizeof buf) == base::StrView("?"));
  // The first byte of the text is some function's.
  KEXPECT_TRUE(symbolize(reinterpret_cast<uint64_t>(__text_start), &s));
}

}  // namespace
}  // namespace prof
