-- inventory.picker_payouts.team_id: the team its policies need (issue 18, docs/benchmarks.md
-- "Payouts at scale 10: the team on the row"). The policies tested `location_id IN (SELECT …
-- locations of the caller's team)` inside an OR with the picker's own rows, so no index could
-- serve them: a manager's payouts to approve read every team's payouts of the window (2 581
-- buffers per call at scale 10). With the location's team on the row, the read policy is two
-- column tests (the picker, or a team the caller manages), which PostgreSQL serves as a
-- BitmapOr of the picker index and (team_id, period_start).
--
-- Kept right by triggers, exactly as cx.sla_breaches.team_id (0010): a payout's insert or
-- update of its location or team takes the location's team, and a location moved to another
-- team takes its payouts along.

CREATE FUNCTION inventory.set_payout_team() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
    AS $fn$
    BEGIN
        -- As the owner: the writer must not be able to choose the team. An unknown location
        -- leaves it as given: the foreign key on location_id then names the real problem.
        NEW.team_id := coalesce((SELECT l.team_id FROM inventory.locations l WHERE l.id = NEW.location_id),
                                NEW.team_id);
        RETURN NEW;
    END
    $fn$;
COMMENT ON FUNCTION inventory.set_payout_team() IS 'BEFORE INSERT or UPDATE OF location_id, team_id trigger of inventory.picker_payouts: sets team_id to the location''s team.';

CREATE FUNCTION inventory.move_payouts() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
    AS $fn$
    BEGIN
        -- As the owner: whoever may move a location moves its payouts, which only managers of
        -- the old team may write. Locations rarely move: a scan of the payouts is acceptable.
        UPDATE inventory.picker_payouts p SET team_id = NEW.team_id WHERE p.location_id = NEW.id;
        RETURN NULL;
    END
    $fn$;
COMMENT ON FUNCTION inventory.move_payouts() IS 'AFTER UPDATE OF team_id trigger of inventory.locations: moves the location''s picker payouts to its new team.';
REVOKE ALL ON FUNCTION inventory.set_payout_team(), inventory.move_payouts() FROM PUBLIC;

ALTER TABLE inventory.picker_payouts ADD COLUMN team_id bigint;
COMMENT ON COLUMN inventory.picker_payouts.team_id IS 'Team running the location (RLS isolation key), kept equal to it by triggers on both tables.';
-- Existing rows: an ordinary audited UPDATE (the audit log records every write).
UPDATE inventory.picker_payouts p SET team_id = l.team_id FROM inventory.locations l WHERE l.id = p.location_id;
ALTER TABLE inventory.picker_payouts ALTER COLUMN team_id SET NOT NULL;
CREATE TRIGGER picker_payouts_team BEFORE INSERT OR UPDATE OF location_id, team_id ON inventory.picker_payouts
    FOR EACH ROW EXECUTE FUNCTION inventory.set_payout_team();
CREATE TRIGGER locations_move_payouts AFTER UPDATE OF team_id ON inventory.locations
    FOR EACH ROW WHEN (OLD.team_id IS DISTINCT FROM NEW.team_id) EXECUTE FUNCTION inventory.move_payouts();

-- serves: inventory.payouts_to_approve (a manager's team's payouts of recent periods), as one
-- arm of the read policy's BitmapOr; the picker's own rows come from picker_payouts_period_key.
-- It replaces 0006's (period_start DESC) for that query: admins' `team_id = ANY (every team)`
-- is served by it too, and while the period index exists the planner, which cannot know how
-- many teams the policy's array holds (it assumes ten), takes every team's payouts of a short
-- window through it (1 717 buffers per call at scale 10) over the team's own (about 300).
CREATE INDEX picker_payouts_team_id_period_start_idx ON inventory.picker_payouts (team_id, period_start);
DROP INDEX inventory.picker_payouts_period_start_427efb_idx;

-- The same rules as 0003, on the row's team: managers (and admins, whose visible teams are all
-- teams) read and manage the payouts of the teams they see; a picker reads their own.
ALTER POLICY picker_payouts_select ON inventory.picker_payouts
    USING (picker_id = (SELECT app.current_user_id())
        OR ((SELECT app.has_app_role('manager')) AND team_id = ANY ((SELECT app.visible_team_ids())::bigint[])));
ALTER POLICY picker_payouts_insert ON inventory.picker_payouts
    WITH CHECK ((SELECT app.has_app_role('manager')) AND team_id = ANY ((SELECT app.visible_team_ids())::bigint[]));
ALTER POLICY picker_payouts_update ON inventory.picker_payouts
    USING ((SELECT app.has_app_role('manager')) AND team_id = ANY ((SELECT app.visible_team_ids())::bigint[]))
    WITH CHECK ((SELECT app.has_app_role('manager')) AND team_id = ANY ((SELECT app.visible_team_ids())::bigint[]));
