/**
 * @file emulate.h
 * @brief Emulating the instructions a guest may not execute itself.
 */
#ifndef HYPATIA_EMULATE_H
#define HYPATIA_EMULATE_H

struct vcpu;

/**
 * The guest trapped on a privileged instruction (trap-and-emulate): fetch and
 * decode it at the guest's RIP and carry it out against the virtual CPU and
 * the emulated devices, then step RIP past it. What cannot be emulated
 * becomes the exception the hardware would raise.
 */
void emulate_privileged(struct vcpu *vcpu);

#endif
