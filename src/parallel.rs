//! Sums over fixed chunks of the data, on one thread or several, with the same result.
//!
//! A pass over n samples is cut into chunks of a fixed size that depends on the data only
//! ([`CHUNK`] samples, the last one shorter). Each chunk's contribution is computed into a
//! zeroed slot, and the slots are added to the total in chunk order: total = ((0 + s_0) + s_1) +
//! ... The threads only decide who computes which slot, so the total is the same, bit for bit,
//! for any number of threads. One thread (and every build without `std`) runs the chunks in
//! order in the caller's scratch and allocates nothing; more threads (feature `std` only) take a
//! slot per chunk and one scratch per thread from the heap and run under `std::thread::scope`.

use crate::Status;

/// Samples per chunk.
pub const CHUNK: usize = 4096;

/// The number of chunks of n samples.
pub(crate) fn chunk_count(n: usize) -> usize {
    n.div_ceil(CHUNK)
}

/// The sample range of chunk `c` of n samples.
pub(crate) fn chunk_range(c: usize, n: usize) -> core::ops::Range<usize> {
    c * CHUNK..((c + 1) * CHUNK).min(n)
}

/// `BadParameter` unless `threads` is at least 1, and 1 without the `std` feature.
pub(crate) fn check_threads(threads: usize) -> Result<(), Status> {
    if threads == 0 || (threads > 1 && !cfg!(feature = "std")) {
        return Err(Status::BadParameter);
    }
    Ok(())
}

/// Adds to `total` the slot of every chunk of n samples, in chunk order. `chunk(c, slot,
/// scratch)` writes chunk c's contribution into `slot` (`total.len()` doubles, zeroed) with
/// `scratch_len` doubles of scratch. `work` holds `total.len() + scratch_len` doubles (used by
/// one thread). The first failing chunk in chunk order decides the error; `total` is then
/// unspecified.
pub(crate) fn sum_over_chunks<F>(
    threads: usize,
    n: usize,
    total: &mut [f64],
    work: &mut [f64],
    scratch_len: usize,
    chunk: F,
) -> Result<(), Status>
where
    F: Fn(usize, &mut [f64], &mut [f64]) -> Result<(), Status> + Sync,
{
    let chunks = chunk_count(n);
    #[cfg(feature = "std")]
    if threads > 1 && chunks > 1 {
        return sum_over_chunks_threaded(threads.min(chunks), chunks, total, scratch_len, chunk);
    }
    // One thread, or no `std`: the chunks run here, in order (`threads` is then unused).
    let _ = threads;
    let (slot, scratch) = work.split_at_mut(total.len());
    let scratch = &mut scratch[..scratch_len];
    for c in 0..chunks {
        slot.fill(0.0);
        chunk(c, slot, scratch)?;
        add_into(total, slot);
    }
    Ok(())
}

/// `total += slot`, element by element.
pub(crate) fn add_into(total: &mut [f64], slot: &[f64]) {
    total.iter_mut().zip(slot).for_each(|(t, s)| *t += s);
}

#[cfg(feature = "std")]
fn sum_over_chunks_threaded<F>(
    threads: usize,
    chunks: usize,
    total: &mut [f64],
    scratch_len: usize,
    chunk: F,
) -> Result<(), Status>
where
    F: Fn(usize, &mut [f64], &mut [f64]) -> Result<(), Status> + Sync,
{
    extern crate std;
    use std::vec;
    let slot_len = total.len();
    let mut slots = vec![0.0; chunks * slot_len];
    let mut results = vec![Ok(()); chunks];
    // Each thread takes a run of consecutive chunks, with their slots and results.
    let per_thread = chunks.div_ceil(threads);
    let chunk = &chunk;
    std::thread::scope(|scope| {
        let runs = slots
            .chunks_mut(per_thread * slot_len)
            .zip(results.chunks_mut(per_thread));
        for (t, (run_slots, run_results)) in runs.enumerate() {
            scope.spawn(move || {
                let mut scratch = vec![0.0; scratch_len];
                let jobs = run_slots.chunks_exact_mut(slot_len).zip(run_results);
                for (j, (slot, result)) in jobs.enumerate() {
                    *result = chunk(t * per_thread + j, slot, &mut scratch);
                }
            });
        }
    });
    for (slot, result) in slots.chunks_exact(slot_len).zip(&results) {
        (*result)?;
        add_into(total, slot);
    }
    Ok(())
}
