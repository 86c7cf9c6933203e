/*
 * shadow_cache.c — LAB 2 student file, part 2: keep shadows across CR3
 * loads.
 *
 * See labs/lab2/README.md, "Part 2". kernel/include/shadow.h documents the
 * cache (struct shadow_cache, struct shadow_space) and the given helpers;
 * kernel/include/emulate.h and decode.h the decoder and emulator of lab 1.
 */
#include "console.h"
#include "decode.h"
#include "domain.h"
#include "emulate.h"
#include "pv.h"
#include "shadow.h"
#include "vcpu.h"

/*
 * LAB 2: the guest loaded CR3 with guest_cr3 (the table's guest-physical
 * address). Look in vcpu->domain->shadow_cache.spaces for a slot in use
 * whose guest_cr3 matches: that is a hit (count it in
 * domain->shadow.cache_hits) and the answer. Otherwise it is a miss (count
 * it in cache_misses): take a slot not in use, or else the least recently
 * used one (smallest last_used) that is not the current one, and make it an
 * empty shadow of guest_cr3 with shadow_space_init(); if that fails (out of
 * memory), domain_crash() and return NULL. The caller switches to the slot
 * you return (and stamps its last_used).
 * Until this is written the domain runs without the cache (one shadow,
 * emptied at every CR3 load: part 1's virtual TLB).
 */
struct shadow_space *shadow_cache_lookup(struct vcpu *vcpu, uint64_t guest_cr3)
{
	(void)vcpu, (void)guest_cr3;
	return NULL;
}

/*
 * LAB 2: the guest wrote to one of its page tables, which every shadow maps
 * read-only. Fetch and decode the instruction at RIP
 * (emulate_fetch_and_decode; if that fails the guest already got its fault:
 * return true). Handle stores whose destination (operands[0]) is memory of
 * at most 8 bytes: MOV and MOVNTI; XCHG; CMPXCHG; AND, OR, XOR; BTS, BTR,
 * BTC with an immediate bit number (or a register one below the operand's
 * width). The address is pv_operand_address(). Read the old value
 * (pv_read_guest), compute the new one, store it with pv_write_guest() —
 * it walks the guest's tables (a guest entry that forbids the write gives
 * the guest its #PF) and drops the shadow entries derived from every entry
 * that changed. Only once the store succeeded, update registers
 * (emulate_write_gpr_operand; CMPXCHG's accumulator, XCHG's register),
 * RFLAGS (emulate_status_flags), step RIP, and count the write in
 * domain->shadow.emulated_pte_writes. A failed read or write: return true
 * (the guest has its #PF). Anything else (REP STOS, a wider store...):
 * return false having changed nothing — the caller then stops protecting
 * the page. See SDM Vol. 2 for each instruction; Vol. 1 §3.4.3 for flags.
 */
bool shadow_emulate_pt_write(struct vcpu *vcpu)
{
	static bool said;
	if (!said)
		kprintf("[hv] d%u shadow: LAB 2: shadow_emulate_pt_write() is not implemented: guest page tables are "
			"unprotected instead (labs/lab2/README.md)\n", vcpu->domain->id);
	said = true;
	return false;
}
