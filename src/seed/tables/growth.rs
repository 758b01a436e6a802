//! `growth.*`: SEO pages with a year of daily keyword rankings (a few series collapse in the
//! last week, for the anomalies feed), ad campaigns with daily spend and results, content items
//! with daily engagement that decays after publication.

use std::io;

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal, Poisson};

use super::{ColType as T, Generator, Sink};
use crate::seed::plan::{AppRole, Plan, TEAMS};
use crate::seed::shape::{DAY_US, daily_factor, row_rng, stream_seed};

/// Days of daily metrics.
const METRIC_DAYS: i64 = 365;
const SECTIONS: [&str; 6] = ["grocery", "home", "garden", "pets", "tech", "kids"];
const KEYWORDS: [&str; 10] = [
    "best price",
    "near me",
    "delivery",
    "reviews",
    "discount code",
    "same day",
    "organic",
    "bulk",
    "gift ideas",
    "how to choose",
];
const AD_CHANNELS: [&str; 4] = ["search", "social", "display", "video"];
const CONTENT_KINDS: [&str; 4] = ["article", "video", "newsletter", "social_post"];

/// Pages, campaigns and content items belong to teams round-robin.
fn team_of(id: u64) -> i64 {
    ((id - 1) % TEAMS) as i64 + 1
}

fn poisson(rng: &mut ChaCha8Rng, mean: f64) -> i64 {
    if mean <= 0.0 {
        return 0;
    }
    Poisson::new(mean)
        .map(|p| p.sample(rng) as i64)
        .unwrap_or(0)
}

pub struct SeoPages;

impl Generator for SeoPages {
    fn table(&self) -> (&'static str, &'static str) {
        ("growth", "seo_pages")
    }

    fn columns(&self) -> &'static [(&'static str, T)] {
        &[
            ("id", T::Int8),
            ("team_id", T::Int8),
            ("url", T::Text),
            ("title", T::Text),
            ("created_at", T::Timestamptz),
        ]
    }

    fn generate(&self, plan: &Plan, rng: &mut ChaCha8Rng, out: &mut Sink<'_>) -> io::Result<()> {
        for id in 1..=plan.seo_pages {
            let section = SECTIONS[rng.gen_range(0..SECTIONS.len())];
            let row = out.row()?;
            row.int8(id as i64);
            row.int8(team_of(id));
            row.text(&format!("https://shop.example/{section}/guide-{id}"));
            row.text(&format!("The {section} guide, part {id}"));
            row.timestamptz(plan.end_us - rng.gen_range(400..800) * DAY_US);
        }
        Ok(())
    }
}

pub struct SeoRankings;

impl Generator for SeoRankings {
    fn table(&self) -> (&'static str, &'static str) {
        ("growth", "seo_rankings")
    }

    fn columns(&self) -> &'static [(&'static str, T)] {
        &[
            ("page_id", T::Int8),
            ("keyword", T::Text),
            ("day", T::Date),
            ("position", T::Numeric),
            ("clicks", T::Int4),
            ("impressions", T::Int4),
        ]
    }

    /// Two to four keywords per page; positions walk randomly, and one series in 30 (plus the
    /// first of each team's first page) drops 15-40 places in the last week.
    fn generate(&self, plan: &Plan, rng: &mut ChaCha8Rng, out: &mut Sink<'_>) -> io::Result<()> {
        let step = Normal::new(0.0, 0.6).expect("constant parameters are valid");
        for page_id in 1..=plan.seo_pages {
            for k in 0..(2 + page_id % 3) {
                let keyword = KEYWORDS[((page_id * 7 + k) % KEYWORDS.len() as u64) as usize];
                let volume = rng.gen_range(20.0..2_000.0);
                let mut position: f64 = rng.gen_range(1.0..60.0);
                // The first keyword of each team's first page always drops: every team's
                // anomalies feed has something to show, at any scale.
                let planted = page_id <= TEAMS && k == 0;
                let drop = (rng.gen_bool(1.0 / 30.0) || planted).then(|| rng.gen_range(15.0..40.0));
                for back in (1..=METRIC_DAYS).rev() {
                    position = (position + step.sample(rng)).clamp(1.0, 120.0);
                    let shown = match drop {
                        Some(places) if back <= 7 => (position + places).min(200.0),
                        _ => position,
                    };
                    let impressions = poisson(
                        rng,
                        volume * daily_factor(plan.end_us - back * DAY_US, back),
                    );
                    let ctr = (0.3 / shown.powf(0.9)).min(0.6);
                    let clicks = poisson(rng, impressions as f64 * ctr).min(impressions);
                    let row = out.row()?;
                    row.int8(page_id as i64);
                    row.text(keyword);
                    row.date(plan.day(back));
                    row.numeric((shown * 10.0).round() as i64, 1);
                    row.int4(clicks as i32);
                    row.int4(impressions as i32);
                }
            }
        }
        Ok(())
    }
}

/// What the daily metrics need to know about campaign `id`: its days (days back from the
/// anchor date; `end_back` 0 means running today) and budget.
#[derive(Debug, Clone, Copy)]
struct CampaignFacts {
    start_back: i64,
    /// `None`: no end date.
    end_back: Option<i64>,
    status: &'static str,
    daily_budget_cents: i64,
}

fn campaign_facts(key: &[u8; 32], id: u64) -> CampaignFacts {
    let mut rng = row_rng(key, id);
    let start_back = rng.gen_range(-10..420);
    let daily_budget_cents = rng.gen_range(50..2_000) * 100;
    let (end_back, status) = if start_back < 0 {
        (None, "draft")
    } else if rng.gen_bool(0.4) {
        let end = (start_back - rng.gen_range(30..150)).max(1);
        (Some(end), "ended")
    } else if rng.gen_bool(0.1) {
        (Some(-30), "paused")
    } else {
        (None, "active")
    };
    CampaignFacts {
        start_back,
        end_back,
        status,
        daily_budget_cents,
    }
}

pub struct AdCampaigns;

impl Generator for AdCampaigns {
    fn table(&self) -> (&'static str, &'static str) {
        ("growth", "ad_campaigns")
    }

    fn columns(&self) -> &'static [(&'static str, T)] {
        &[
            ("id", T::Int8),
            ("team_id", T::Int8),
            ("name", T::Text),
            ("channel", T::Enum),
            ("status", T::Enum),
            ("daily_budget_cents", T::Int8),
            ("starts_on", T::Date),
            ("ends_on", T::Date),
        ]
    }

    fn generate(&self, plan: &Plan, rng: &mut ChaCha8Rng, out: &mut Sink<'_>) -> io::Result<()> {
        let key = stream_seed(plan.rng_seed, "growth.ad_campaigns#facts");
        for id in 1..=plan.campaigns {
            let facts = campaign_facts(&key, id);
            let channel = AD_CHANNELS[(id % AD_CHANNELS.len() as u64) as usize];
            let row = out.row()?;
            row.int8(id as i64);
            row.int8(team_of(id));
            row.text(&format!(
                "{channel} {} #{id}",
                SECTIONS[rng.gen_range(0..SECTIONS.len())]
            ));
            row.text(channel);
            row.text(facts.status);
            row.int8(facts.daily_budget_cents);
            row.date(plan.day(facts.start_back));
            match facts.end_back {
                Some(back) => row.date(plan.day(back)),
                None => row.null(),
            }
        }
        Ok(())
    }
}

pub struct AdDailyMetrics;

impl Generator for AdDailyMetrics {
    fn table(&self) -> (&'static str, &'static str) {
        ("growth", "ad_daily_metrics")
    }

    fn columns(&self) -> &'static [(&'static str, T)] {
        &[
            ("campaign_id", T::Int8),
            ("day", T::Date),
            ("spend_cents", T::Int8),
            ("impressions", T::Int8),
            ("clicks", T::Int8),
            ("conversions", T::Int4),
            ("revenue_cents", T::Int8),
        ]
    }

    /// One row per day a campaign ran within the last year (paused ones stopped 10 days ago).
    fn generate(&self, plan: &Plan, rng: &mut ChaCha8Rng, out: &mut Sink<'_>) -> io::Result<()> {
        let key = stream_seed(plan.rng_seed, "growth.ad_campaigns#facts");
        for id in 1..=plan.campaigns {
            let facts = campaign_facts(&key, id);
            let last_back = match facts.status {
                "paused" => 10,
                _ => facts.end_back.unwrap_or(1).max(1),
            };
            let ctr = rng.gen_range(0.005..0.04);
            let cvr = rng.gen_range(0.01..0.06);
            let order_cents = rng.gen_range(2_000..12_000);
            for back in (last_back..=facts.start_back.min(METRIC_DAYS)).rev() {
                let factor = daily_factor(plan.end_us - back * DAY_US, back);
                let spend =
                    (facts.daily_budget_cents as f64 * rng.gen_range(0.6..1.0) * factor) as i64;
                let impressions = poisson(rng, spend as f64 / 0.8); // ~8 EUR CPM
                let clicks = poisson(rng, impressions as f64 * ctr).min(impressions);
                let conversions = poisson(rng, clicks as f64 * cvr).min(clicks);
                let row = out.row()?;
                row.int8(id as i64);
                row.date(plan.day(back));
                row.int8(spend);
                row.int8(impressions);
                row.int8(clicks);
                row.int4(conversions as i32);
                row.int8(conversions * order_cents);
            }
        }
        Ok(())
    }
}

/// Days back of content item `id`'s publication (`None`: a draft).
fn published_back(key: &[u8; 32], id: u64) -> Option<i64> {
    let mut rng = row_rng(key, id);
    rng.gen_bool(0.9).then(|| rng.gen_range(1..=METRIC_DAYS))
}

pub struct ContentItems;

impl Generator for ContentItems {
    fn table(&self) -> (&'static str, &'static str) {
        ("growth", "content_items")
    }

    fn columns(&self) -> &'static [(&'static str, T)] {
        &[
            ("id", T::Int8),
            ("team_id", T::Int8),
            ("kind", T::Enum),
            ("title", T::Text),
            ("author_id", T::Uuid),
            ("published_at", T::Timestamptz),
            ("created_at", T::Timestamptz),
        ]
    }

    fn generate(&self, plan: &Plan, rng: &mut ChaCha8Rng, out: &mut Sink<'_>) -> io::Result<()> {
        let key = stream_seed(plan.rng_seed, "growth.content_items#facts");
        for id in 1..=plan.content_items {
            let published = published_back(&key, id);
            let kind = CONTENT_KINDS[rng.gen_range(0..CONTENT_KINDS.len())];
            let row = out.row()?;
            row.int8(id as i64);
            row.int8(team_of(id));
            row.text(kind);
            row.text(&format!(
                "{} {} {id}",
                SECTIONS[rng.gen_range(0..SECTIONS.len())],
                kind.replace('_', " ")
            ));
            if rng.gen_bool(0.9) {
                row.uuid(
                    &plan
                        .pick_user(rng, team_of(id), &[AppRole::Operator, AppRole::Manager])
                        .id,
                );
            } else {
                row.null();
            }
            let created_back = published.unwrap_or(0) + rng.gen_range(1..20);
            let hour_us = rng.gen_range(7..19) * DAY_US / 24;
            match published {
                Some(back) => row.timestamptz(plan.end_us - (back + 1) * DAY_US + hour_us),
                None => row.null(),
            }
            row.timestamptz(plan.end_us - (created_back + 1) * DAY_US + hour_us);
        }
        Ok(())
    }
}

pub struct ContentEngagement;

impl Generator for ContentEngagement {
    fn table(&self) -> (&'static str, &'static str) {
        ("growth", "content_daily_engagement")
    }

    fn columns(&self) -> &'static [(&'static str, T)] {
        &[
            ("content_id", T::Int8),
            ("day", T::Date),
            ("views", T::Int4),
            ("unique_visitors", T::Int4),
            ("avg_read_seconds", T::Numeric),
            ("bounce_rate", T::Numeric),
            ("shares", T::Int4),
            ("conversions", T::Int4),
        ]
    }

    /// From publication to yesterday: a launch peak decaying over a month to a long tail.
    fn generate(&self, plan: &Plan, rng: &mut ChaCha8Rng, out: &mut Sink<'_>) -> io::Result<()> {
        let key = stream_seed(plan.rng_seed, "growth.content_items#facts");
        for id in 1..=plan.content_items {
            let Some(published) = published_back(&key, id) else {
                continue;
            };
            let launch_views = rng.gen_range(50.0..5_000.0);
            let read_seconds = rng.gen_range(30.0..400.0);
            for back in (1..=published).rev() {
                let age = (published - back) as f64;
                let factor = daily_factor(plan.end_us - back * DAY_US, back);
                let views = poisson(rng, launch_views * ((-age / 30.0).exp() + 0.05) * factor);
                let unique = (views as f64 * rng.gen_range(0.6..0.95)) as i64;
                let row = out.row()?;
                row.int8(id as i64);
                row.date(plan.day(back));
                row.int4(views as i32);
                row.int4(unique as i32);
                row.numeric((read_seconds * rng.gen_range(0.8..1.2) * 10.0) as i64, 1);
                row.numeric(rng.gen_range(200..800), 3);
                row.int4(poisson(rng, views as f64 * 0.01) as i32);
                row.int4(poisson(rng, views as f64 * 0.004) as i32);
            }
        }
        Ok(())
    }
}
