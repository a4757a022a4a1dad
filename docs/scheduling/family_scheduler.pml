/* FamilyScheduler's concurrent protocol (include/hft/sched/family_scheduler.hpp), for spin.
 *
 * One dispatcher submits NT tasks of one family; W workers take Jobs from the executor
 * channel and run slices of at most SLICE tasks. Each statement below is one atomic
 * operation of the C++ code (a load, a store, or one RMW); spin explores every
 * interleaving of them.
 *
 * Checked:
 *  - no double dispatch: at most one worker holds the family's token (assert holders <= 1);
 *  - FIFO, exactly once: each task runs once, in submit order (assert t == last_done + 1);
 *  - the worker never touches the family after releasing it: the dispatcher's reclaim
 *    (count == 0) finds the queue empty and nobody holding the token;
 *  - no lost wake-up: the dispatcher's final step waits until all NT tasks have run; if a
 *    wake-up were lost it would block forever and spin reports an invalid end state.
 *
 * The worker reads the count once, runs that many tasks (at most its slice), and subtracts
 * them with one fetch_sub, as run_slice() does.
 *
 * -DBROKEN splits the worker's fetch_sub into a load and a store (a non-atomic
 * "count -= batch", the classic lost-update race); spin must then find a violation. scripts/check-model.sh
 * runs both and fails unless the correct model passes and the broken one fails.
 */
#ifndef NT
#define NT 3
#endif
#ifndef W
#define W 2
#endif
#ifndef SLICE
#define SLICE 1
#endif

byte qbuf[NT + 1];
byte qhead = 0;    /* token holder: next task to run */
byte qtail = 0;    /* dispatcher: next free position */
byte count = 0;    /* std::atomic<uint32_t> count: queued + running */
byte holders = 0;  /* workers currently allowed to touch the family */
byte last_done = 0;
bool live = false;
chan jobs = [W + 2] of { bit };  /* the executor's queue (release/acquire hand-off) */

active proctype Dispatcher() {
  byte i = 1;
  byte prev;
  do
  :: i > NT -> break
  :: i <= NT ->
     /* lazy reclaim: the clock hand may visit the family between any two submits */
     if
     :: live && count == 0 ->
        assert(qhead == qtail && holders == 0);
        live = false
     :: else -> skip
     fi;
     if
     :: !live -> live = true
     :: else -> skip
     fi;
     qbuf[qtail] = i; qtail++;       /* construct + release store of the link */
     d_step { prev = count; count++ } /* fetch_add(1, acq_rel) */
     if
     :: prev == 0 -> jobs!1           /* family was idle: the only place a Job is born */
     :: else -> skip
     fi;
     i++
  od;
  /* every accepted task must run: blocks forever here if a wake-up was lost */
  (last_done == NT && count == 0);
  assert(holders == 0)
}

active [W] proctype Worker() {
  byte t, ran, prev, pending, batch, k;
end:
  do
  :: jobs?_ ->
     atomic { holders++; assert(holders == 1) }  /* no double dispatch */
     ran = 0;
     pending = count;                /* load(acquire): how many are linked */
     assert(pending >= 1);           /* the token holder always has one */
     do
     :: true ->
        /* run min(pending, SLICE - ran) tasks, then subtract them all at once */
        if
        :: pending < SLICE - ran -> batch = pending
        :: else -> batch = SLICE - ran
        fi;
        k = 0;
        do
        :: k == batch -> break
        :: k < batch ->
           assert(qhead < qtail);       /* counted tasks are linked */
           t = qbuf[qhead];
           assert(t == last_done + 1);  /* FIFO, exactly once */
           last_done = t;
           qhead++;
           k++
        od;
        ran = ran + batch;
#ifdef BROKEN
        prev = count;                /* load ...                    */
        count = prev - batch;        /* ... store: not one RMW      */
        if
        :: prev == batch -> holders--; break
        :: else -> skip
        fi;
#else
        d_step {                     /* fetch_sub(batch, acq_rel); at 0 the token is gone */
          prev = count; count = count - batch;
          if :: prev == batch -> holders-- :: else -> skip fi
        }
        if
        :: prev == batch -> break
        :: else -> skip
        fi;
#endif
        pending = prev - batch;      /* what arrived meanwhile: linked, by the acquire */
        if
        :: ran == SLICE -> holders--; jobs!1; break  /* back of the line */
        :: else -> skip
        fi
     od
  od
}
