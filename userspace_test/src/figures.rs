//! Summary figures of repeated measurements: median, min/max, ratios of medians.

use serde::Serialize;

/// The median: the middle value, or the mean of the two middle values of an even count; `None`
/// for no values (or a NaN among them).
pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() || values.iter().any(|v| v.is_nan()) {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    })
}

/// `num / den`, or `None` when it is not a finite number (a zero or missing denominator).
pub fn ratio(num: Option<f64>, den: Option<f64>) -> Option<f64> {
    let r = num? / den?;
    r.is_finite().then_some(r)
}

/// Median, min and max of one series, with its values.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Series {
    pub median: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub values: Vec<f64>,
}

pub fn series(values: Vec<f64>) -> Series {
    Series {
        median: median(&values),
        min: values.iter().copied().reduce(f64::min),
        max: values.iter().copied().reduce(f64::max),
        values,
    }
}

/// A figure for a table cell: `-` when there is none.
pub fn cell(v: Option<f64>, decimals: usize) -> String {
    v.map_or("-".into(), |v| format!("{v:.decimals$}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[5.0, 1.0, 3.0]), Some(3.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[7.0]), Some(7.0));
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[1.0, f64::NAN]), None);
        // Outliers do not move it.
        assert_eq!(median(&[10.0, 11.0, 12.0, 1e9, 9.0]), Some(11.0));
    }

    #[test]
    fn ratios_are_finite_or_none() {
        assert_eq!(ratio(Some(3.0), Some(2.0)), Some(1.5));
        assert_eq!(ratio(Some(3.0), Some(0.0)), None);
        assert_eq!(ratio(None, Some(2.0)), None);
        assert_eq!(ratio(Some(0.0), Some(0.0)), None);
    }

    #[test]
    fn series_keeps_its_values_and_extremes() {
        let s = series(vec![3.0, 1.0, 2.0]);
        assert_eq!((s.median, s.min, s.max), (Some(2.0), Some(1.0), Some(3.0)));
        assert_eq!(s.values, vec![3.0, 1.0, 2.0]);
        let e = series(vec![]);
        assert_eq!((e.median, e.min, e.max), (None, None, None));
        assert_eq!(cell(Some(1.23456), 3), "1.235");
        assert_eq!(cell(None, 3), "-");
    }
}
