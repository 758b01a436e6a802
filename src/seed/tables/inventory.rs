//! `inventory.*`: locations, products with Zipf-skewed demand, supplier lead times, two weeks
//! of daily stock snapshots, eight weeks of daily sales, a year of weekly picker payouts.

use std::io::{self, Write};

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal, Poisson};

use super::{ColType as T, Generator, Sink, Weighted};
use crate::seed::plan::{LOCATIONS, Plan};
use crate::seed::shape::{DAY_US, HOUR_US, daily_factor, permute, row_rng, stream_seed};

/// Days of stock snapshots (one per stocked product and location per day).
const SNAPSHOT_DAYS: i64 = 14;
/// Days of sales history.
const SALES_DAYS: i64 = 56;
/// Weeks of picker payouts.
const PAYOUT_WEEKS: i64 = 52;
/// A location stocks one product in this many (those with `id % 8 == location % 8`).
const ASSORTMENT_EVERY: u64 = 8;

const CITIES: [&str; 12] = [
    "Lyon", "Porto", "Leipzig", "Gdansk", "Turin", "Ghent", "Malmo", "Bilbao", "Brno", "Cork",
    "Graz", "Aarhus",
];
const CATEGORIES: [&str; 8] = [
    "grocery",
    "beverages",
    "household",
    "personal care",
    "electronics",
    "toys",
    "garden",
    "pet supplies",
];
const ADJECTIVES: [&str; 8] = [
    "Classic", "Organic", "Compact", "Deluxe", "Everyday", "Family", "Travel", "Premium",
];
const NOUNS: [&str; 8] = [
    "Coffee Beans",
    "Dish Soap",
    "Phone Charger",
    "Dog Treats",
    "Garden Hose",
    "Shampoo",
    "Puzzle",
    "Sparkling Water",
];

/// What the inventory tables need to know about product `id`.
#[derive(Debug, Clone, Copy)]
pub struct ProductFacts {
    pub unit_cost_cents: i64,
    pub unit_price_cents: i64,
    /// Expected units sold per stocked location and day: Zipf-skewed over products.
    pub daily_demand: f64,
    pub safety_stock_units: i32,
}

/// Computes [`ProductFacts`] for one seeding.
pub struct ProductSource {
    key: [u8; 32],
    products: u64,
    cost: LogNormal<f64>,
}

impl ProductSource {
    pub fn new(plan: &Plan) -> ProductSource {
        ProductSource {
            key: stream_seed(plan.rng_seed, "inventory.products#facts"),
            products: plan.products,
            cost: LogNormal::new(f64::ln(900.0), 0.8).expect("constant parameters are valid"),
        }
    }

    pub fn get(&self, id: u64) -> ProductFacts {
        let mut rng = row_rng(&self.key, id);
        let unit_cost_cents = self.cost.sample(&mut rng).round() as i64 + 10;
        let markup = rng.gen_range(1.2..2.5);
        let rank = permute(id - 1, self.products) + 1;
        let daily_demand = 30.0 / (rank as f64).powf(0.9) + 0.05;
        ProductFacts {
            unit_cost_cents,
            unit_price_cents: (unit_cost_cents as f64 * markup).round() as i64,
            daily_demand,
            safety_stock_units: (daily_demand * 3.0).ceil() as i32 + 2,
        }
    }
}

/// Products stocked at `location_id`: every [`ASSORTMENT_EVERY`]th, offset by the location.
fn assortment(plan: &Plan, location_id: u64) -> impl Iterator<Item = u64> + use<> {
    let first = location_id % ASSORTMENT_EVERY + 1;
    (first..=plan.products).step_by(ASSORTMENT_EVERY as usize)
}

fn team_of_location(location_id: u64) -> i64 {
    ((location_id - 1) / 2) as i64 + 1
}

pub struct Locations;

impl Generator for Locations {
    fn table(&self) -> (&'static str, &'static str) {
        ("inventory", "locations")
    }

    fn columns(&self) -> &'static [(&'static str, T)] {
        &[
            ("id", T::Int8),
            ("team_id", T::Int8),
            ("code", T::Text),
            ("name", T::Text),
            ("kind", T::Enum),
            ("created_at", T::Timestamptz),
        ]
    }

    fn generate(&self, plan: &Plan, rng: &mut ChaCha8Rng, out: &mut Sink<'_>) -> io::Result<()> {
        for id in 1..=LOCATIONS {
            let city = CITIES[((id - 1) / 2) as usize % CITIES.len()];
            let kind = if id % 2 == 1 {
                "warehouse"
            } else if rng.gen_bool(0.5) {
                "store"
            } else {
                "dark_store"
            };
            let row = out.row()?;
            row.int8(id as i64);
            row.int8(team_of_location(id));
            row.text(&format!("{}-{id:02}", &city[..3].to_uppercase()));
            row.text(&format!("{city} {}", kind.replace('_', " ")));
            row.text(kind);
            row.timestamptz(plan.end_us - rng.gen_range(400..700) * DAY_US);
        }
        Ok(())
    }
}

pub struct Products;

impl Generator for Products {
    fn table(&self) -> (&'static str, &'static str) {
        ("inventory", "products")
    }

    fn columns(&self) -> &'static [(&'static str, T)] {
        &[
            ("id", T::Int8),
            ("sku", T::Text),
            ("name", T::Text),
            ("category", T::Text),
            ("unit_cost_cents", T::Int8),
            ("unit_price_cents", T::Int8),
            ("safety_stock_units", T::Int4),
            ("active", T::Bool),
            ("created_at", T::Timestamptz),
        ]
    }

    fn generate(&self, plan: &Plan, rng: &mut ChaCha8Rng, out: &mut Sink<'_>) -> io::Result<()> {
        let source = ProductSource::new(plan);
        let categories = Weighted::new(&CATEGORIES, &[30.0, 18.0, 15.0, 10.0, 9.0, 7.0, 6.0, 5.0]);
        for id in 1..=plan.products {
            let facts = source.get(id);
            let row = out.row()?;
            row.int8(id as i64);
            row.text_with(|buf| {
                let _ = write!(buf, "SKU-{id:07}");
            });
            row.text_with(|buf| {
                let _ = write!(
                    buf,
                    "{} {} {}",
                    ADJECTIVES[rng.gen_range(0..ADJECTIVES.len())],
                    NOUNS[rng.gen_range(0..NOUNS.len())],
                    id
                );
            });
            row.text(categories.sample(rng));
            row.int8(facts.unit_cost_cents);
            row.int8(facts.unit_price_cents);
            row.int4(facts.safety_stock_units);
            row.bool(rng.gen_bool(0.97));
            row.timestamptz(plan.end_us - rng.gen_range(60..900) * DAY_US);
        }
        Ok(())
    }
}

pub struct SupplierLeadTimes;

impl Generator for SupplierLeadTimes {
    fn table(&self) -> (&'static str, &'static str) {
        ("inventory", "supplier_lead_times")
    }

    fn columns(&self) -> &'static [(&'static str, T)] {
        &[
            ("id", T::Int8),
            ("product_id", T::Int8),
            ("supplier_name", T::Text),
            ("lead_time_days", T::Numeric),
            ("valid_from", T::Date),
            ("valid_to", T::Date),
        ]
    }

    /// Two periods per product: a closed one from 400 to 120 days ago, the current one since.
    fn generate(&self, plan: &Plan, rng: &mut ChaCha8Rng, out: &mut Sink<'_>) -> io::Result<()> {
        let mut next_id = 1i64;
        for product_id in 1..=plan.products {
            for (from_back, to_back) in [(400, Some(120)), (120, None)] {
                let row = out.row()?;
                row.int8(next_id);
                next_id += 1;
                row.int8(product_id as i64);
                row.text(SUPPLIERS[rng.gen_range(0..SUPPLIERS.len())]);
                row.numeric(rng.gen_range(10..450), 1);
                row.date(plan.day(from_back));
                match to_back {
                    Some(back) => row.date(plan.day(back)),
                    None => row.null(),
                }
            }
        }
        Ok(())
    }
}

const SUPPLIERS: [&str; 6] = [
    "Nordic Wholesale",
    "Iberia Foods",
    "Danube Trading",
    "Alpine Goods",
    "Baltic Supply",
    "Rhine Distribution",
];

pub struct Snapshots;

impl Generator for Snapshots {
    fn table(&self) -> (&'static str, &'static str) {
        ("inventory", "inventory_snapshots")
    }

    fn columns(&self) -> &'static [(&'static str, T)] {
        &[
            ("location_id", T::Int8),
            ("product_id", T::Int8),
            ("taken_at", T::Timestamptz),
            ("on_hand_units", T::Int4),
            ("reserved_units", T::Int4),
        ]
    }

    /// A daily 05:00 count per stocked product: stock runs down with demand and is
    /// replenished when it falls under the safety stock, so some products sit below it.
    fn generate(&self, plan: &Plan, rng: &mut ChaCha8Rng, out: &mut Sink<'_>) -> io::Result<()> {
        let source = ProductSource::new(plan);
        for location_id in 1..=LOCATIONS {
            for product_id in assortment(plan, location_id) {
                let facts = source.get(product_id);
                let refill = (facts.daily_demand * 10.0).ceil() as i32 + facts.safety_stock_units;
                let mut on_hand = rng.gen_range(0..=refill);
                for back in (0..SNAPSHOT_DAYS).rev() {
                    let day_start = plan.end_us - (back + 1) * DAY_US;
                    let row = out.row()?;
                    row.int8(location_id as i64);
                    row.int8(product_id as i64);
                    row.timestamptz(day_start + 5 * HOUR_US);
                    row.int4(on_hand);
                    row.int4(rng.gen_range(0..=on_hand / 4));
                    let sold = Poisson::new(facts.daily_demand)
                        .map(|p| p.sample(rng) as i32)
                        .unwrap_or(0);
                    on_hand = (on_hand - sold).max(0);
                    if on_hand < facts.safety_stock_units && rng.gen_bool(0.6) {
                        on_hand += refill;
                    }
                }
            }
        }
        Ok(())
    }
}

pub struct SalesVelocity;

impl Generator for SalesVelocity {
    fn table(&self) -> (&'static str, &'static str) {
        ("inventory", "sales_velocity")
    }

    fn columns(&self) -> &'static [(&'static str, T)] {
        &[
            ("product_id", T::Int8),
            ("location_id", T::Int8),
            ("day", T::Date),
            ("units_sold", T::Int4),
            ("revenue_cents", T::Int8),
        ]
    }

    /// Daily units per stocked product and location, weekday-shaped, for eight weeks.
    fn generate(&self, plan: &Plan, rng: &mut ChaCha8Rng, out: &mut Sink<'_>) -> io::Result<()> {
        let source = ProductSource::new(plan);
        for location_id in 1..=LOCATIONS {
            for product_id in assortment(plan, location_id) {
                let facts = source.get(product_id);
                for back in (1..=SALES_DAYS).rev() {
                    let factor = daily_factor(plan.end_us - back * DAY_US, back);
                    let units = Poisson::new(facts.daily_demand * factor)
                        .map(|p| p.sample(rng) as i32)
                        .unwrap_or(0);
                    let row = out.row()?;
                    row.int8(product_id as i64);
                    row.int8(location_id as i64);
                    row.date(plan.day(back));
                    row.int4(units);
                    row.int8(i64::from(units) * facts.unit_price_cents);
                }
            }
        }
        Ok(())
    }
}

pub struct PickerPayouts;

impl Generator for PickerPayouts {
    fn table(&self) -> (&'static str, &'static str) {
        ("inventory", "picker_payouts")
    }

    fn columns(&self) -> &'static [(&'static str, T)] {
        &[
            ("id", T::Int8),
            ("picker_id", T::Uuid),
            ("location_id", T::Int8),
            ("period_start", T::Date),
            ("period_end", T::Date),
            ("picks", T::Int4),
            ("amount_cents", T::Int8),
            ("status", T::Enum),
            ("approval_id", T::Int8),
            ("team_id", T::Int8),
        ]
    }

    /// Weekly payouts of each (picker, location) slot; the last two weeks are not paid yet.
    fn generate(&self, plan: &Plan, rng: &mut ChaCha8Rng, out: &mut Sink<'_>) -> io::Result<()> {
        let approvals = super::approvals::FactsSource::new(plan);
        let mut next_id = 1i64;
        for slot in 0..plan.picker_slots {
            let location_id = slot % LOCATIONS + 1;
            let team_id = team_of_location(location_id);
            let members = plan.team_users(team_id);
            // Members are listed in user order, personas first (viewer, operator, …): the first
            // picker of a persona team's locations is its operator persona.
            let member = (slot / LOCATIONS + 1) as usize % members.len();
            let picker = &plan.users[members[member] as usize];
            let rate_cents = rng.gen_range(25..60);
            for week in (0..PAYOUT_WEEKS).rev() {
                let picks = rng.gen_range(200..1_500);
                let status = match week {
                    0 => "pending",
                    1 => "approved",
                    _ if rng.gen_bool(0.02) => "disputed",
                    _ => "paid",
                };
                let row = out.row()?;
                row.int8(next_id);
                next_id += 1;
                row.uuid(&picker.id);
                row.int8(location_id as i64);
                row.date(plan.day(week * 7 + 7));
                row.date(plan.day(week * 7 + 1));
                row.int4(picks);
                row.int8(i64::from(picks) * rate_cents);
                row.text(status);
                match payout_approval(plan, &approvals, rng, team_id, status) {
                    Some(id) => row.int8(id as i64),
                    None => row.null(),
                }
                // The location's team, as the trigger sets it (replica mode skips it).
                row.int8(team_id);
            }
        }
        Ok(())
    }
}

/// A payout approval of the same team for approved or paid payouts, when one is found quickly.
fn payout_approval(
    plan: &Plan,
    approvals: &super::approvals::FactsSource<'_>,
    rng: &mut ChaCha8Rng,
    team_id: i64,
    status: &str,
) -> Option<u64> {
    if !matches!(status, "approved" | "paid") {
        return None;
    }
    (0..8)
        .map(|_| rng.gen_range(1..=plan.approvals))
        .find(|id| {
            let facts = approvals.get(*id);
            facts.kind == "payout" && facts.team_id == team_id
        })
}
