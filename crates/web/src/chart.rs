//! Bar charts drawn on the server as SVG: no script, no request elsewhere. Each chart is an
//! image with a title for assistive technology (`role="img"`, `<title>`), and the page
//! gives the same numbers in a table.

/// Pixels: the chart's width, the label column, one bar's height and the gap.
const WIDTH: u32 = 640;
const LABEL_WIDTH: u32 = 200;
const VALUE_WIDTH: u32 = 90;
const BAR: u32 = 22;
const GAP: u32 = 10;

/// One bar as drawn.
pub(crate) struct Bar {
    pub label: String,
    pub value: String,
    /// `agency`, `client` or empty: the bar's colour (see `app.css`'s chart block).
    pub series: &'static str,
    pub y: u32,
    pub text_y: u32,
    pub width: u32,
    pub value_x: u32,
}

/// A chart: its id (for `aria-labelledby`), title and bars.
pub(crate) struct Chart {
    pub id: &'static str,
    pub title: String,
    pub height: u32,
    pub width: u32,
    pub bar_x: u32,
    pub bars: Vec<Bar>,
}

impl Chart {
    /// A horizontal bar chart of `(label, value, value as text, series)`, scaled to the
    /// largest value.
    pub(crate) fn new(
        id: &'static str,
        title: impl Into<String>,
        values: Vec<(String, f64, String, &'static str)>,
    ) -> Self {
        let largest = values
            .iter()
            .map(|(_, value, _, _)| *value)
            .fold(0.0_f64, f64::max);
        let room = f64::from(WIDTH - LABEL_WIDTH - VALUE_WIDTH);
        let bars = values
            .into_iter()
            .zip(0u32..)
            .map(|((label, value, text, series), row)| {
                let y = GAP + row * (BAR + GAP);
                let share = if largest > 0.0 {
                    value.max(0.0) / largest
                } else {
                    0.0
                };
                // Rounded to whole pixels; a positive value is always at least one.
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let width = ((share * room).round() as u32).max(u32::from(value > 0.0));
                Bar {
                    label,
                    value: text,
                    series,
                    y,
                    text_y: y + BAR * 3 / 4,
                    width,
                    value_x: LABEL_WIDTH + width + 6,
                }
            })
            .collect::<Vec<_>>();
        let rows = u32::try_from(bars.len()).unwrap_or(u32::MAX);
        Self {
            id,
            title: title.into(),
            height: GAP + rows.saturating_mul(BAR + GAP),
            width: WIDTH,
            bar_x: LABEL_WIDTH,
            bars,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Chart;

    #[test]
    fn bars_are_scaled_to_the_largest_value() {
        let chart = Chart::new(
            "c",
            "Cycle time",
            vec![
                ("A".into(), 10.0, "10 days".into(), ""),
                ("B".into(), 5.0, "5 days".into(), ""),
                ("C".into(), 0.0, "0 days".into(), ""),
            ],
        );
        let widths: Vec<u32> = chart.bars.iter().map(|bar| bar.width).collect();
        assert_eq!(widths, [350, 175, 0]);
        assert_eq!(chart.height, 10 + 3 * 32);
        assert!(chart.bars[1].y > chart.bars[0].y);
    }
}
