-- Undoes 0013: the picker payouts' policies test the location's team again (as in 0003), and
-- the team column, its index and triggers go; 0006's index on the period comes back.

ALTER POLICY picker_payouts_select ON inventory.picker_payouts
    USING ((SELECT app.is_admin())
        OR picker_id = (SELECT app.current_user_id())
        OR ((SELECT app.has_app_role('manager')) AND location_id IN (
            SELECT l.id FROM inventory.locations l WHERE l.team_id = (SELECT app.current_team_id()))));
ALTER POLICY picker_payouts_insert ON inventory.picker_payouts
    WITH CHECK ((SELECT app.is_admin())
        OR ((SELECT app.has_app_role('manager')) AND location_id IN (
            SELECT l.id FROM inventory.locations l WHERE l.team_id = (SELECT app.current_team_id()))));
ALTER POLICY picker_payouts_update ON inventory.picker_payouts
    USING ((SELECT app.is_admin())
        OR ((SELECT app.has_app_role('manager')) AND location_id IN (
            SELECT l.id FROM inventory.locations l WHERE l.team_id = (SELECT app.current_team_id()))))
    WITH CHECK ((SELECT app.is_admin())
        OR ((SELECT app.has_app_role('manager')) AND location_id IN (
            SELECT l.id FROM inventory.locations l WHERE l.team_id = (SELECT app.current_team_id()))));
CREATE INDEX picker_payouts_period_start_427efb_idx ON inventory.picker_payouts USING btree (period_start DESC);
DROP INDEX inventory.picker_payouts_team_id_period_start_idx;
DROP TRIGGER locations_move_payouts ON inventory.locations;
DROP TRIGGER picker_payouts_team ON inventory.picker_payouts;
ALTER TABLE inventory.picker_payouts DROP COLUMN team_id;
DROP FUNCTION inventory.move_payouts();
DROP FUNCTION inventory.set_payout_team();
