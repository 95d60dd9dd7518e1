//! The regular chunk grid: block counts, block coordinates and regions, and
//! the pieces of blocks a region overlaps.

/// Number of blocks of size `chunks` covering `shape` along each axis.
pub fn grid_shape(shape: &[u64], chunks: &[u64]) -> Vec<u64> {
    shape.iter().zip(chunks).map(|(&s, &c)| s.div_ceil(c.max(1))).collect()
}

/// Row-major block coordinates of linear block `index` in `grid`.
pub fn unravel(mut index: u64, grid: &[u64]) -> Vec<u64> {
    let mut coords = vec![0; grid.len()];
    for k in (0..grid.len()).rev() {
        coords[k] = index % grid[k].max(1);
        index /= grid[k].max(1);
    }
    coords
}

/// The region `[start, stop)` per axis of block `coords` of size `chunks`, clipped to `shape`.
pub fn block_region(coords: &[u64], chunks: &[u64], shape: &[u64]) -> Vec<(u64, u64)> {
    coords
        .iter()
        .zip(chunks)
        .zip(shape)
        .map(|((&c, &n), &s)| (c * n, ((c + 1) * n).min(s)))
        .collect()
}

/// The part of one block of a regular grid that lies inside a region.
#[derive(Debug, Clone, PartialEq)]
pub struct BlockPiece {
    /// Block coordinates.
    pub coords: Vec<u64>,
    /// `[start, stop)` per axis inside the block.
    pub local: Vec<(u64, u64)>,
    /// Where the piece starts inside the region.
    pub offset: Vec<u64>,
}

/// The blocks of size `chunks` that `region` overlaps, row-major, with the
/// overlapping part of each.
pub fn block_pieces(region: &[(u64, u64)], chunks: &[u64]) -> Vec<BlockPiece> {
    // An empty region overlaps no block.
    if region.iter().any(|&(a, b)| b <= a) {
        return vec![];
    }
    let first: Vec<u64> = region.iter().zip(chunks).map(|(&(a, _), &c)| a / c).collect();
    let last: Vec<u64> = region.iter().zip(chunks).map(|(&(_, b), &c)| (b.max(1) - 1) / c).collect();
    let spans: Vec<u64> = first.iter().zip(&last).map(|(&f, &l)| l - f + 1).collect();
    (0..spans.iter().product::<u64>())
        .map(|i| {
            let coords: Vec<u64> = unravel(i, &spans).iter().zip(&first).map(|(&r, &f)| r + f).collect();
            let origin: Vec<u64> = coords.iter().zip(chunks).map(|(&i, &c)| i * c).collect();
            let inter: Vec<(u64, u64)> =
                region.iter().zip(&origin).zip(chunks).map(|((&(a, b), &o), &c)| (a.max(o), b.min(o + c))).collect();
            BlockPiece {
                local: inter.iter().zip(&origin).map(|(&(a, b), &o)| (a - o, b - o)).collect(),
                offset: inter.iter().zip(region).map(|(&(a, _), &(r, _))| a - r).collect(),
                coords,
            }
        })
        .collect()
}

/// Chunks as an array stores them: at most the shape, at least 1.
pub fn clip_chunks(shape: &[u64], chunks: &[u64]) -> Vec<u64> {
    chunks.iter().zip(shape).map(|(&c, &s)| c.min(s).max(1)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_region_has_no_pieces() {
        assert!(block_pieces(&[(2, 2)], &[2]).is_empty());
        assert!(block_pieces(&[(0, 4), (3, 3)], &[2, 2]).is_empty());
        let p = block_pieces(&[(1, 3)], &[2]);
        assert_eq!(p.iter().map(|p| (p.coords.clone(), p.local.clone(), p.offset.clone())).collect::<Vec<_>>(), vec![(vec![0], vec![(1, 2)], vec![0]), (vec![1], vec![(0, 1)], vec![1])]);
    }
}
