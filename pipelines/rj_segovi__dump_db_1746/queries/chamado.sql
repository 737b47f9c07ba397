-- Calls to the 1746 call centre started on or after the "since" parameter (start of the newest day in the lake).
-- The ORDER BY is required: the dump writes each day's partition as it streams, in start-date order.
SELECT
    id_chamado,
    data_inicio,
    data_fim,
    bairro,
    categoria,
    tipo,
    subtipo,
    status,
    canal,
    latitude,
    longitude
FROM chamado
WHERE data_inicio >= :since
ORDER BY data_inicio, id_chamado
