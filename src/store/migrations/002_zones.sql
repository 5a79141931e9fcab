-- The world. Zones are boxes in one frame (x east, z north, feet); zones
-- sharing an edge are adjacent. Columns: id, name, description, rating,
-- weather, time_of_day, lighting, origin_x, origin_z, size_x, size_y,
-- size_z, spawn_x, spawn_y, spawn_z.
INSERT INTO zones VALUES
('zone-crossroads', 'The Crossroads', 'Four worn roads meet beneath a leaning signpost. Lanterns sway in a wind that smells of rain.', 'T', 'overcast', 'dusk', 'dim', 0, 0, 200, 50, 200, 100, 0, 100),
('zone-forest', 'The Whispering Forest', 'Old pines crowd the path north of the Crossroads; something moves between the trunks.', 'T', 'fog', 'dusk', 'dark', 0, 200, 200, 80, 400, 100, 0, 20),
('zone-city', 'The City', 'Streets of wet stone stretch east from the Crossroads, lit by gas lamps and neon.', 'M', 'rain', 'night', 'artificial', 200, 0, 1000, 200, 1000, 20, 0, 100),
('zone-nyc-manhattan', 'Manhattan', 'Canyons of glass and steel; the city that never sleeps, and neither do its predators.', 'M', 'clear', 'night', 'artificial', 10000, 10000, 2000, 300, 4000, 1000, 0, 200),
('zone-nyc-brooklyn', 'Brooklyn', 'Brownstones and warehouses across the river from Manhattan.', 'M', 'clear', 'night', 'artificial', 10000, 7000, 3000, 100, 3000, 1000, 0, 2800),
('zone-boston', 'Boston', 'Narrow colonial streets and older secrets.', 'M', 'snow', 'night', 'artificial', 20000, 20000, 2500, 100, 2500, 1250, 0, 1250),
('zone-philly', 'Philadelphia', 'Red brick, cracked bells and quiet alleys.', 'M', 'overcast', 'night', 'artificial', 20000, 12000, 2500, 100, 2500, 1250, 0, 1250),
('zone-chicago', 'Chicago', 'Wind off the lake and elevated trains overhead.', 'M', 'wind', 'night', 'artificial', 4000, 10000, 3000, 300, 3000, 1500, 0, 1500),
('zone-sf', 'San Francisco', 'Fog rolls over the hills and the bay.', 'M', 'fog', 'night', 'artificial', -20000, 10000, 2000, 200, 2000, 1000, 0, 1000),
('zone-la', 'Los Angeles', 'Sprawl under an orange sky.', 'M', 'clear', 'night', 'artificial', -20000, 0, 3000, 100, 3000, 1500, 0, 1500),
('zone-seattle', 'Seattle', 'Rain on the sound and coffee steam in the streets.', 'M', 'rain', 'night', 'artificial', -20000, 30000, 3000, 200, 3000, 1500, 0, 1500),
('zone-portland', 'Portland', 'Bridges, roses and rain south of Seattle.', 'M', 'rain', 'night', 'artificial', -20000, 27000, 3000, 100, 3000, 1500, 0, 1500),
('zone-london', 'London', 'Gaslight memories along the Thames.', 'M', 'fog', 'night', 'artificial', 40000, 10000, 3000, 200, 3000, 1500, 0, 1500),
('zone-paris', 'Paris', 'Boulevards and catacombs south of London.', 'M', 'clear', 'night', 'artificial', 40000, 7000, 3000, 200, 3000, 1500, 0, 1500),
('zone-berlin', 'Berlin', 'Concrete, history and clubs that never close.', 'M', 'overcast', 'night', 'artificial', 44000, 10000, 3000, 200, 3000, 1500, 0, 1500),
('zone-rome', 'Rome', 'Ruins upon ruins; the eternal city.', 'M', 'clear', 'night', 'artificial', 44000, 3000, 3000, 200, 3000, 1500, 0, 1500);
