-- Written for FrostGuard's tests (not copied). The origin's
-- 0006_partition_sensor_readings.sql renames sensor_readings to
-- sensor_readings_old and creates the partitioned table's indexes under the
-- names 0000 gave the old table's, which the rename keeps: on a database built
-- by 0000 it fails ("relation sensor_readings_unit_time_idx already exists").
-- Whoever partitioned the running database must have renamed them first;
-- this does.
ALTER INDEX sensor_readings_unit_time_idx RENAME TO sensor_readings_old_unit_time_idx;
ALTER INDEX sensor_readings_device_idx RENAME TO sensor_readings_old_device_idx;
ALTER INDEX sensor_readings_recorded_idx RENAME TO sensor_readings_old_recorded_idx;
