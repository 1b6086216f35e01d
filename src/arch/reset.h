// Resetting the machine, in the order that works on the most machines
// (Linux's reboot=acpi,kbd,triple order): the ACPI reset register when the
// FADT has one, then the keyboard controller's reset line, then a triple
// fault. Each step is named on the console before it is tried, so a machine
// that survives one says which. Thread context, any CPU; never returns.
#pragma once

#include "src/arch/acpi.h"

namespace arch {

/// `acpi` is the FADT's reset register, or null with `no_acpi_reason`
/// saying why there is none.
[[noreturn]] void reset_machine(const acpi::ResetRegister* acpi, const char* no_acpi_reason);

}  // namespace arch
