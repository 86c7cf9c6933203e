/*
 * shadow_cache.c — LAB 2 reference solution, part 2: the shadow cache and
 * the emulated guest page-table write.
 */
#include "console.h"
#include "decode.h"
#include "domain.h"
#include "emulate.h"
#include "pv.h"
#include "shadow.h"
#include "vcpu.h"

struct shadow_space *shadow_cache_lookup(struct vcpu *v, uint64_t guest_cr3)
{
	struct domain *d = v->domain;
	struct shadow_cache *c = &d->shadow_cache;
	struct shadow_space *victim = NULL;
	for (unsigned i = 0; i < SHADOW_CACHE_SIZE; i++) {
		struct shadow_space *s = &c->spaces[i];
		if (s->in_use && s->guest_cr3 == guest_cr3) {
			d->shadow.cache_hits++;
			return s;
		}
		/* A free slot beats any used one; among used ones, the least
		 * recently used — never the one the guest is on. */
		if (s == c->current)
			continue;
		if (!victim || (victim->in_use && (!s->in_use || s->last_used < victim->last_used)))
			victim = s;
	}
	d->shadow.cache_misses++;
	if (!victim || !shadow_space_init(v, victim, guest_cr3)) {
		domain_crash(d, "out of memory for a shadow address space");
		return NULL;
	}
	return victim;
}

bool shadow_emulate_pt_write(struct vcpu *v)
{
	struct insn insn;
	if (!emulate_fetch_and_decode(v, &insn))
		return true;
	const struct insn_operand *dst = &insn.operands[0], *src = &insn.operands[1];
	if (insn.operand_count < 2 || dst->kind != OPERAND_MEMORY || dst->size > 8 || insn.rep || insn.repne)
		return false;
	unsigned size = dst->size;
	uint64_t mask = size == 8 ? ~0ull : (1ull << (8 * size)) - 1;
	uint64_t address = pv_operand_address(v, &insn), value = emulate_read_operand(v, src) & mask;
	uint64_t old = 0, result, rflags = v->regs.rflags;
	bool read_first = insn.cls != INSN_MOV && insn.cls != INSN_MOVNTI;

	switch (insn.cls) {
	case INSN_MOV:
	case INSN_MOVNTI:
	case INSN_XCHG:
	case INSN_CMPXCHG:
	case INSN_AND:
	case INSN_OR:
	case INSN_XOR:
		break;
	case INSN_BTS:
	case INSN_BTR:
	case INSN_BTC:
		/* A register bit number may reach outside the operand (a bit
		 * string): only the simple case is emulated. */
		if (src->kind != OPERAND_IMMEDIATE && value >= 8 * size)
			return false;
		value &= 8 * size - 1;
		break;
	default:
		return false;
	}
	if (read_first && !pv_read_guest(v, address, &old, size, false))
		return true;
	old &= mask;

	switch (insn.cls) {
	case INSN_XCHG:
		result = value;
		break;
	case INSN_CMPXCHG: {
		/* Compare the accumulator with the destination: equal, store the
		 * source; else load the destination into the accumulator (and the
		 * processor writes the old value back). SDM Vol. 2A "CMPXCHG". */
		uint64_t accumulator = v->regs.rax & mask;
		rflags = emulate_status_flags(rflags, INSN_CMPXCHG, size, accumulator, old, accumulator - old);
		result = accumulator == old ? value : old;
		break;
	}
	case INSN_AND:
		result = old & value;
		rflags = emulate_status_flags(rflags, INSN_AND, size, old, value, result);
		break;
	case INSN_OR:
		result = old | value;
		rflags = emulate_status_flags(rflags, INSN_OR, size, old, value, result);
		break;
	case INSN_XOR:
		result = old ^ value;
		rflags = emulate_status_flags(rflags, INSN_XOR, size, old, value, result);
		break;
	case INSN_BTS:
	case INSN_BTR:
	case INSN_BTC: {
		uint64_t bit = 1ull << value;
		result = insn.cls == INSN_BTS ? old | bit : insn.cls == INSN_BTR ? old & ~bit : old ^ bit;
		rflags = emulate_status_flags(rflags, insn.cls, size, (old & bit) != 0, 0, 0);
		break;
	}
	default: /* MOV, MOVNTI */
		result = value;
	}

	if (!pv_write_guest(v, address, &result, size))
		return true;
	/* The store is done: now the registers, as the instruction leaves them. */
	if (insn.cls == INSN_XCHG)
		emulate_write_gpr_operand(v, src, old);
	if (insn.cls == INSN_CMPXCHG && result == old && (v->regs.rax & mask) != old) {
		struct insn_operand accumulator = {.kind = OPERAND_GPR, .size = (uint8_t)size, .reg = 0};
		emulate_write_gpr_operand(v, &accumulator, old);
	}
	v->regs.rflags = rflags;
	v->regs.rip += insn.length;
	v->domain->shadow.emulated_pte_writes++;
	return true;
}
