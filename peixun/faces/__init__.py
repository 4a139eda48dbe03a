"""Face verification (第十九条 人脸识别、过程拍照; 第二十二条 虚假参训人员身份): enrolment and check-in
photos, their face embeddings, and the FACE_MISMATCH / FACE_SHARED findings."""
