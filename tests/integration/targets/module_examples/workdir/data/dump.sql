INSERT INTO product VALUES (1, 'mug');
INSERT INTO product VALUES (2, 'cup');
