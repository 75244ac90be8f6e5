//! How much of a name each screen may show.
//!
//! A lobby is public: it shows initials ("J. S."), never a full name. A
//! housing-unit terminal shows first name and last initial ("Maria S.").

/// "John Quincy Smith" -> "J. Q. S."
pub fn initials(full_name: &str) -> String {
    full_name
        .split_whitespace()
        .filter_map(|w| w.chars().next())
        .map(|c| format!("{}.", c.to_uppercase()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// "Maria Elena Santos" -> "Maria S."
pub fn first_and_initial(full_name: &str) -> String {
    let words: Vec<&str> = full_name.split_whitespace().collect();
    match words.as_slice() {
        [] => String::new(),
        [only] => (*only).to_string(),
        [first, .., last] => {
            let initial = last.chars().next().map(|c| c.to_uppercase().to_string());
            format!("{first} {}.", initial.unwrap_or_default())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lobby_sees_initials_only() {
        assert_eq!(initials("John Smith"), "J. S.");
        assert_eq!(initials("  maria  elena santos "), "M. E. S.");
        assert_eq!(initials(""), "");
    }

    #[test]
    fn unit_sees_first_name_and_initial() {
        assert_eq!(first_and_initial("Maria Elena Santos"), "Maria S.");
        assert_eq!(first_and_initial("Cher"), "Cher");
    }
}
