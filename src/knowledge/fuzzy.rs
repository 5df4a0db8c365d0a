//! "Did you mean" suggestions for misspelt codes.

/// Levenshtein distance over chars.
pub fn distance(a: &str, b: &str) -> usize {
    let b_chars: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b_chars.len()).collect();
    let mut current = vec![0; b_chars.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        current[0] = i + 1;
        for (j, cb) in b_chars.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b_chars.len()]
}

/// Up to `limit` candidates close to `input`, closest first (ties by name).
/// Close means an edit distance of at most a third of the longer name (at least 2),
/// or one name containing the other.
pub fn closest<'a>(
    input: &str,
    candidates: impl Iterator<Item = &'a str>,
    limit: usize,
) -> Vec<String> {
    let lowered = input.to_lowercase();
    let n = lowered.chars().count();
    let mut scored: Vec<(usize, &str)> = candidates
        .filter_map(|c| {
            let m = c.chars().count();
            let budget = (n.max(c.len()) / 3).max(2);
            let contains =
                lowered.len() >= 4 && (c.contains(lowered.as_str()) || lowered.contains(c));
            // The distance is at least the difference in length, and exactly that when one
            // name contains the other, so the quadratic `distance` only runs for names of
            // about the same length (an unknown key sent by a client may be kilobytes long).
            let d = if contains {
                n.abs_diff(m)
            } else if n.abs_diff(m) > budget {
                return None;
            } else {
                distance(&lowered, c)
            };
            (d <= budget || contains).then_some((d, c))
        })
        .collect();
    scored.sort();
    scored.dedup();
    scored
        .into_iter()
        .take(limit)
        .map(|(_, c)| c.to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_counts_edits() {
        assert_eq!(distance("saddle_numbnes", "saddle_numbness"), 1);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("same", "same"), 0);
    }

    #[test]
    fn closest_finds_the_intended_code_first() {
        let codes = ["saddle_numbness", "sexual_dysfunction_new", "fever"];
        assert_eq!(
            closest("saddle_numbnes", codes.into_iter(), 3),
            vec!["saddle_numbness"]
        );
        assert!(closest("zzzzzzzz", codes.into_iter(), 3).is_empty());
    }

    #[test]
    fn pruning_by_length_gives_the_same_answer_as_the_full_distance() {
        let codes = [
            "saddle_numbness",
            "sexual_dysfunction_new",
            "fever",
            "fever_or_chills",
            "leg_weakness_progressive",
        ];
        // The rule `closest` implements, with the distance always computed.
        let reference = |input: &str| {
            let lowered = input.to_lowercase();
            let mut scored: Vec<(usize, &str)> = codes
                .into_iter()
                .filter_map(|c| {
                    let d = distance(&lowered, c);
                    let budget = (lowered.chars().count().max(c.len()) / 3).max(2);
                    let contains =
                        lowered.len() >= 4 && (c.contains(lowered.as_str()) || lowered.contains(c));
                    (d <= budget || contains).then_some((d, c))
                })
                .collect();
            scored.sort();
            scored.dedup();
            scored
                .into_iter()
                .take(3)
                .map(|(_, c)| c.to_owned())
                .collect::<Vec<_>>()
        };
        let long = "x".repeat(5000) + "fever";
        for input in [
            "",
            "f",
            "fev",
            "fever",
            "FEVER",
            "fevr",
            "fever_or",
            "ever",
            "saddle",
            "saddle_numbnes",
            "xx_saddle_numbness_xx",
            "sexual",
            "legweakness",
            "leg_weakness_progressive_and_more",
            "ünïcödé_fever",
            long.as_str(),
        ] {
            assert_eq!(
                closest(input, codes.into_iter(), 3),
                reference(input),
                "{input:?}"
            );
        }
    }
}
