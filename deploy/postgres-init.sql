-- Runs once when the PostgreSQL volume is created (docker-entrypoint-initdb.d).
-- Created here, before several Rasa replicas could race to create them.
CREATE DATABASE tracker;
CREATE DATABASE events;
CREATE DATABASE channel;
CREATE DATABASE backends;
CREATE DATABASE dashboard;
