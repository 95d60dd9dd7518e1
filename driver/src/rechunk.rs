//! Planning a rechunk with bounded memory, after rechunker's algorithm
//! (consolidate reads and writes up to `max_mem`, copy through an intermediate
//! whose chunks are the elementwise minimum), multi-stage when that
//! intermediate would be too small to read efficiently.

use cubed_task::plan::saturating_product;

/// One copy stage: write an array with `chunks`, one `region` per task.
#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    /// Chunks of the array this stage writes.
    pub chunks: Vec<u64>,
    /// Region one task copies (a whole number of `chunks` per axis).
    pub region: Vec<u64>,
}

/// Grows `chunks` by whole multiples, last axis first, while one block stays
/// within `max_mem` and each axis within `limits` (default: the shape).
fn consolidate(shape: &[u64], chunks: &[u64], itemsize: u64, max_mem: u64, limits: &[u64]) -> Vec<u64> {
    let mut out = chunks.to_vec();
    for k in (0..shape.len()).rev() {
        let others: Vec<u64> = out.iter().enumerate().filter(|&(j, _)| j != k).map(|(_, &c)| c).collect();
        // Saturating: a block that large is over any `max_mem` anyway.
        let others = saturating_product(&others).saturating_mul(itemsize);
        let limit = limits[k].min(shape[k]).max(chunks[k]);
        let max_len = (max_mem / others.max(1)).min(limit);
        let mult = (max_len / chunks[k]).max(1);
        out[k] = (chunks[k] * mult).min(shape[k].max(chunks[k]));
    }
    out
}

fn single_stage(shape: &[u64], src: &[u64], dst: &[u64], itemsize: u64, max_mem: u64) -> Vec<Stage> {
    let write = consolidate(shape, dst, itemsize, max_mem, shape);
    let limits: Vec<u64> = src.iter().zip(&write).map(|(&s, &w)| if w > s { w } else { s }).collect();
    let read = consolidate(shape, src, itemsize, max_mem, &limits);
    let int: Vec<u64> = read.iter().zip(&write).map(|(&r, &w)| r.min(w)).collect();
    // Stage 1 copies roughly `read`-sized regions made of whole intermediate chunks.
    let region1: Vec<u64> = read.iter().zip(&int).map(|(&r, &i)| (r / i).max(1) * i).collect();
    if read == write {
        // Each task reads exactly the region it writes: no intermediate needed.
        vec![Stage { chunks: dst.to_vec(), region: write }]
    } else if int == dst {
        vec![Stage { chunks: dst.to_vec(), region: region1 }]
    } else if int == src {
        vec![Stage { chunks: dst.to_vec(), region: write }]
    } else {
        vec![Stage { chunks: int, region: region1 }, Stage { chunks: dst.to_vec(), region: write }]
    }
}

/// The copy stages turning chunks `src` into `dst` (empty when they are equal).
pub fn plan_rechunk(shape: &[u64], src: &[u64], dst: &[u64], itemsize: u64, max_mem: u64, min_mem: u64) -> Vec<Stage> {
    if src == dst {
        return vec![];
    }
    let bytes = |c: &[u64]| {
        let lens: Vec<u64> = c.iter().zip(shape).map(|(&c, &s)| c.min(s)).collect();
        saturating_product(&lens).saturating_mul(itemsize)
    };
    // An intermediate can never be larger than the whole array.
    let min_mem = min_mem.min(bytes(shape));
    let one = single_stage(shape, src, dst, itemsize, max_mem);
    let small = |stages: &[Stage]| stages.iter().take(stages.len() - 1).any(|s| bytes(&s.chunks) < min_mem);
    if !small(&one) {
        return one;
    }
    // Multi-stage: intermediate target chunks spaced geometrically from src to dst.
    for n in 2..=8u32 {
        let mut stages = Vec::new();
        let mut prev = src.to_vec();
        for i in 1..=n {
            let t = f64::from(i) / f64::from(n);
            let next: Vec<u64> = if i == n {
                dst.to_vec()
            } else {
                prev.iter()
                    .zip(src.iter().zip(dst))
                    .zip(shape)
                    .map(|((_, (&s, &d)), &len)| ((s as f64).powf(1.0 - t) * (d as f64).powf(t)).round().clamp(1.0, len.max(1) as f64) as u64)
                    .collect()
            };
            if next != prev {
                stages.extend(single_stage(shape, &prev, &next, itemsize, max_mem));
            }
            prev = next;
        }
        if !small(&stages) {
            return stages;
        }
    }
    one
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stage_region_is_whole_chunks_and_ends_at_target() {
        let shape = [10_000, 10_000];
        let stages = plan_rechunk(&shape, &[1000, 1000], &[10_000, 200], 8, 380_000_000, 19_000_000);
        assert_eq!(stages.last().unwrap().chunks, vec![10_000, 200]);
        for s in &stages {
            for (r, c) in s.region.iter().zip(&s.chunks) {
                assert_eq!(r % c, 0, "{s:?}");
            }
            assert!(s.region.iter().product::<u64>() * 8 <= 380_000_000 * 2, "{s:?}");
        }
    }

    #[test]
    fn a_small_array_is_rechunked_in_one_stage() {
        let stages = plan_rechunk(&[50, 40], &[50, 1], &[1, 40], 8, 380_000_000, 19_000_000);
        assert_eq!(stages.len(), 1, "{stages:?}");
    }

    #[test]
    fn transposed_chunking_goes_through_an_intermediate() {
        let stages = plan_rechunk(&[4000, 4000], &[1, 4000], &[4000, 1], 8, 4_000_000, 200_000);
        assert!(stages.len() >= 2, "{stages:?}");
        assert_eq!(stages.last().unwrap().chunks, vec![4000, 1]);
    }
}
