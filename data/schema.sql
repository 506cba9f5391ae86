-- The sample data set: Kepler Objects of Interest (KOI), shaped like the
-- NASA Exoplanet Archive's cumulative KOI table, one row per star (kepid).
-- data/load fills it with generated rows; slotcache-loader's default route
-- serves them as koi:<kepid> -> row_to_json(row).
--
-- Dropped and recreated on every load so that a load always yields the same
-- table, whatever was there before.
DROP TABLE IF EXISTS koi;

CREATE TABLE koi (
    kepid            bigint PRIMARY KEY,   -- Kepler Input Catalog star id
    kepoi_name       text NOT NULL,        -- KOI designation, e.g. K00752.01
    kepler_name      text,                 -- e.g. Kepler-227 b; NULL unless confirmed
    koi_disposition  text NOT NULL,        -- CONFIRMED, CANDIDATE or FALSE POSITIVE
    koi_pdisposition text NOT NULL,        -- the pipeline's: CANDIDATE or FALSE POSITIVE
    koi_score        double precision,     -- disposition confidence, 0..1 (NULL: none)
    koi_period       double precision,     -- orbital period, days
    koi_prad         double precision,     -- planet radius, Earth radii
    koi_teq          double precision,     -- equilibrium temperature, K
    koi_insol        double precision,     -- insolation flux, Earth flux
    koi_steff        double precision,     -- stellar effective temperature, K
    koi_srad         double precision,     -- stellar radius, solar radii
    ra               double precision,     -- right ascension, degrees
    dec              double precision,     -- declination, degrees
    koi_kepmag       double precision      -- Kepler-band magnitude
);
